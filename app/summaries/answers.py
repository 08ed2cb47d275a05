"""A summary is computed once per version of the diary: its answer is kept and given again
until the diary changes.

Every diary write takes the owner's next change numbers (app.core.change_log), in the
write's transaction; the request reads that version with its caller, in the same snapshot
as the summary. An answer is kept under the owner, the scope (a therapist's leaves private
entries out), the account's time zone, the version and the question, so a kept answer is
exactly what computing it again would give, in every worker and instance. Answers are kept
as the JSON they were sent as, in memory, least recently used first out.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sqlmodel import Session
from starlette.responses import Response

from app.core.database.session import RequestDatabase
from app.core.responses import json_response
from app.core.scoping import OwnerScope


class Answers:
    """Kept answers, at most `max_bytes` of them (SUMMARY_ANSWERS_MB)."""

    __slots__ = ("_kept", "_max_bytes", "_size")

    def __init__(self, max_bytes: int) -> None:
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._max_bytes = max_bytes
        self._size = 0

    def get(self, key: Hashable) -> bytes | None:
        body = self._kept.get(key)
        if body is not None:
            self._kept.move_to_end(key)
        return body

    def keep(self, key: Hashable, body: bytes) -> None:
        if key in self._kept or len(body) > self._max_bytes:
            return
        self._kept[key] = body
        self._size += len(body)
        while self._size > self._max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._size -= len(dropped)


async def kept(
    request: Request,
    db: RequestDatabase,
    scope: OwnerScope,
    make: Callable[..., bytes],
    *question: Hashable,
) -> bytes:
    """`make(session, scope, *question)`, made at most once per version of the diary."""
    answers: Answers = request.app.state.summary_answers
    key = (scope.owner_id, scope.include_private, scope.timezone, scope.version, make, question)
    body = answers.get(key) if scope.version is not None else None
    if body is None:
        body = await db.run(make, scope, *question)
        if scope.version is not None:
            answers.keep(key, body)
    return body


async def answer(
    request: Request,
    db: RequestDatabase,
    scope: OwnerScope,
    compute: Callable[..., BaseModel],
    *question: Hashable,
) -> Response:
    """`compute(session, scope, *question)` as the API answers it (its JSON), computed at
    most once per version of the diary."""
    return json_response(await kept(request, db, scope, _json, compute, *question))


def _json(
    session: Session, scope: OwnerScope, compute: Callable[..., BaseModel], *question: Any
) -> bytes:
    return compute(session, scope, *question).model_dump_json(by_alias=True).encode()

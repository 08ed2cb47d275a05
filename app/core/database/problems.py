"""The one mapping from database errors to problems, for the handlers, the unit of work's
commit and every versioned write.

- `StaleDataError`, a concurrent writer got there first: 412, naming the current `ETag`
  when the row being written is known;
- `IntegrityError`, a unique or foreign key clash: 409;
- `OperationalError`, a connection lost, a server restarting, a lock held too long: 503
  with `Retry-After` (nothing was kept, a retry can succeed);
- `DataError`, a value that validation let through: 422.
"""

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import inspect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session
from starlette.responses import Response

from app.core.concurrency import etag_of
from app.core.errors import (
    Conflict,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    ValidationFailed,
    problem_response,
)

logger = logging.getLogger("app.errors")

DATABASE_ERRORS = (StaleDataError, IntegrityError, OperationalError, DataError)
STALE = "The resource changed while you wrote it; re-read it and merge"
CONFLICT = "The change conflicts with another one; retry"


def problem_for(error: Exception, *, conflict: str = CONFLICT) -> ProblemError:
    if isinstance(error, StaleDataError):
        return PreconditionFailed(STALE)
    if isinstance(error, IntegrityError):
        return Conflict(conflict)
    if isinstance(error, OperationalError):
        return ServiceUnavailable()
    if isinstance(error, DataError):
        return ValidationFailed("A value in the request cannot be stored")
    raise TypeError(f"not a database error: {type(error).__name__}")


@contextlib.contextmanager
def as_problems(
    session: Session, *, conflict: str = CONFLICT, row: Any | None = None
) -> Iterator[None]:
    """Database errors inside the block raised as their problems. `row`: the versioned row
    being written, whose current version a 412 then names (the transaction is rolled back
    to read it: the request fails anyway)."""
    try:
        yield
    except DATABASE_ERRORS as error:
        problem = problem_for(error, conflict=conflict)
        if isinstance(error, StaleDataError) and row is not None:
            problem = _stale(session, row)
        raise problem from error


def _stale(session: Session, row: Any) -> ProblemError:
    identity = inspect(row).identity
    session.rollback()
    current = session.get(type(row), identity)
    if current is None:
        return PreconditionFailed("The resource was deleted while you wrote it")
    etag = etag_of(current)
    return PreconditionFailed(STALE, headers={"ETag": etag}, current_etag=etag)


def install_database_problem_handlers(app: FastAPI) -> None:
    async def on_database_error(request: Request, error: Exception) -> Response:
        if isinstance(error, OperationalError):
            # Log the type and route only: a driver's message can quote personal data.
            logger.warning(
                "database unavailable (%s) on %s %s",
                type(error).__name__,
                request.method,
                getattr(request.scope.get("route"), "path", "?"),
            )
        return problem_response(problem_for(error))

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, on_database_error)

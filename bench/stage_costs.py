"""What each stage of a read costs, measured in-process with the service's own functions.

`stage_costs(env, token, entry_id)` builds the service's app (`app.main.create_app`) in this
process against the benchmark's database and key (the server's DATABASE_URL and
SECRET_KEY), then times, one call at a time on an otherwise idle thread, the pieces that
`GET /v1/entries/{id}` and `GET /v1/entries?limit=50` are made of: whole requests through
the ASGI app without uvicorn or a socket (and the bare app's /healthz), the JWT check, the
account query, loading the rows (with field decryption), `to_public`, FastAPI's response
validation and JSON serialisation, and one hop through the threadpool. Every database
stage opens and closes its own session, as a request does. Medians of `repeat` calls, in
microseconds. It complements the py-spy profiles: they say where a loaded worker's time
goes, this says what each piece costs on its own.
"""

import logging
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any


def _median_us(call: Callable[[], Any], repeat: int) -> float:
    for _ in range(max(3, repeat // 10)):  # warm caches (SQL compilation, pool)
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def stage_costs(
    env: dict[str, str], token: str, entry_id: str, repeat: int = 300
) -> list[tuple[str, float]]:
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.isupper()})
    try:
        return _measure(token, uuid.UUID(entry_id), repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _measure(token: str, entry_id: uuid.UUID, repeat: int) -> list[tuple[str, float]]:
    from app.core.settings import Settings
    from app.main import create_app

    settings = Settings()  # from the environment set above: the server's own
    fastapi_app = create_app(settings)
    # As the servers run: the app's log lines go to /dev/null (restored at the end).
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed at the end
    handlers = [
        h for h in logging.getLogger("app").handlers if isinstance(h, logging.StreamHandler)
    ]
    streams = [(handler, handler.setStream(devnull)) for handler in handlers]
    try:
        return _stages(fastapi_app, settings, token, entry_id, repeat)
    finally:
        for handler, stream in streams:
            handler.setStream(stream)
        devnull.close()
        fastapi_app.state.engine.dispose()


def _stages(
    fastapi_app: Any, settings: Any, token: str, entry_id: uuid.UUID, repeat: int
) -> list[tuple[str, float]]:
    import anyio
    from sqlalchemy import text
    from sqlmodel import Session

    from app.core.field_encryption import KEYS, associated_data
    from app.core.pagination import Page
    from app.core.scoping import OwnerScope
    from app.core.security import authenticated_user, caller_of, decode_access_token
    from app.entries import reads, service
    from app.entries.schemas import EntryPublic
    from app.entries.service import EntryFilters
    from app.models.diary import Entry
    from bench.bare_app import app as bare_app

    engine = fastapi_app.state.engine
    keys = next(m.kwargs["keys"] for m in fastapi_app.user_middleware if "keys" in m.kwargs)
    read_engine = (
        engine.execution_options(isolation_level="REPEATABLE READ")
        if engine.dialect.name == "postgresql"
        else engine
    )

    def session() -> Session:
        return Session(read_engine, expire_on_commit=False, info={KEYS: keys})

    def in_session(work: Callable[[Session], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with session() as s:
                return work(s)

        return call

    user_id, _ = decode_access_token(token, settings)
    with session() as s:
        user = authenticated_user(s, token, settings)
        scope = OwnerScope(owner_id=user.id, timezone=user.timezone)
        one = service.get(s, scope, entry_id)
        page, cursor = service.page(s, scope, EntryFilters(), limit=50, cursor=None)
        page_rows = s.execute(
            reads.select_entries(scope).order_by(Entry.occurred_at.desc()).limit(50)  # type: ignore[attr-defined]
        ).all()
    decrypting = session()  # reads.public needs only the session's keys

    def route_field(endpoint: str) -> Any:
        """The response field of the route whose endpoint function has this name."""
        pending = list(fastapi_app.routes)
        while pending:
            route = pending.pop()
            if hasattr(route, "original_router"):  # FastAPI's included-router node
                pending.extend(route.original_router.routes)
            elif getattr(getattr(route, "endpoint", None), "__name__", None) == endpoint:
                return route.response_field
        raise LookupError(endpoint)

    entry_field = route_field("read_entry")
    list_field = route_field("list_entries")
    page_model = Page[EntryPublic](items=page, next_cursor=cursor)

    def respond(field: Any, value: Any) -> bytes:
        checked, errors = field.validate(value, {}, loc=("response",))
        assert not errors
        return bytes(field.serialize_json(checked, by_alias=True))

    with session() as s:
        ciphertexts = [
            (row_id, event)
            for row_id, event in s.execute(
                text("SELECT id, event FROM entries WHERE owner_id = :owner LIMIT 150"),
                {"owner": user_id.hex if engine.dialect.name == "sqlite" else user_id},
            )
        ]

    def decrypt_150() -> None:
        for row_id, event in ciphertexts:
            keys.decrypt(event, associated_data(Entry, "event", user_id, uuid.UUID(str(row_id))))

    async def hops(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await anyio.to_thread.run_sync(lambda: None)
        return (time.perf_counter() - started) / n * 1e6

    def asgi(target: Any, path: str, auth: bool) -> Callable[[], Any]:
        """One request through the whole ASGI app (middleware, routing, dependencies,
        route, serialisation), without uvicorn or a socket."""
        raw_path, _, query = path.partition("?")
        headers = [(b"host", b"127.0.0.1")]
        if auth:
            headers.append((b"authorization", f"Bearer {token}".encode()))

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200, message

        async def call() -> None:
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": raw_path,
                "raw_path": raw_path.encode(), "query_string": query.encode(),
                "root_path": "", "headers": list(headers), "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000), "state": {},
            }  # fmt: skip
            await target(scope, receive, send)

        async def many(n: int) -> float:
            for _ in range(max(3, n // 10)):
                await call()
            times = []
            for _ in range(n):
                started = time.perf_counter()
                await call()
                times.append(time.perf_counter() - started)
            return statistics.median(times) * 1e6

        return lambda: anyio.run(many, repeat)

    return [
        ("ASGI request `/healthz`: bare app (bench/bare_app.py)",
         asgi(bare_app, "/healthz", auth=False)()),
        ("ASGI request `/healthz`: service app", asgi(fastapi_app, "/healthz", auth=False)()),
        ("ASGI request `GET /v1/entries/{id}`: service app",
         asgi(fastapi_app, f"/v1/entries/{entry_id}", auth=True)()),
        ("ASGI request `GET /v1/entries?limit=50`: service app",
         asgi(fastapi_app, "/v1/entries?limit=50", auth=True)()),
        ("session open + `SELECT 1` + close", _median_us(
            in_session(lambda s: s.execute(text("SELECT 1")).all()), repeat)),
        ("JWT decode and check (PyJWT)", _median_us(
            lambda: decode_access_token(token, settings), repeat)),
        ("caller_of (JWT + id/role/timezone query: diary routes)", _median_us(
            in_session(lambda s: caller_of(s, token, settings)), repeat)),
        ("authenticated_user (JWT + whole account, decrypted: /v1/me, therapists)", _median_us(
            in_session(lambda s: authenticated_user(s, token, settings)), repeat)),
        ("load one entry (ORM, 3 fields decrypted)", _median_us(
            in_session(lambda s: scope.get(s, Entry, entry_id, "entry")), repeat)),
        ("service.get (one statement: entry, people and emotions as JSON; EntryPublic)",
         _median_us(in_session(lambda s: service.get(s, scope, entry_id)), repeat)),
        ("service.get_json (the client's read: the entry's JSON written by the database)",
         _median_us(in_session(lambda s: service.get_json(s, scope, entry_id)), repeat)),
        ("response validation + JSON for one entry (FastAPI)", _median_us(
            lambda: respond(entry_field, one), repeat)),
        ("load 50 entries (keyset page, ORM, 150 fields decrypted)", _median_us(
            in_session(lambda s: list(s.exec(scope.select(Entry).order_by(
                Entry.occurred_at.desc(), Entry.id.desc()).limit(51)))),  # type: ignore[attr-defined]
            repeat // 3)),
        ("service.page, 50 entries (one statement; 50 EntryPublic: the therapist's list)",
         _median_us(in_session(
             lambda s: service.page(s, scope, EntryFilters(), limit=50, cursor=None)),
             repeat // 3)),
        ("service.page_json, 50 entries (the client's list: JSON written by the database)",
         _median_us(in_session(
             lambda s: service.page_json(s, scope, EntryFilters(), limit=50, cursor=None)),
             repeat // 3)),
        ("response validation + JSON for 50 entries (FastAPI)", _median_us(
            lambda: respond(list_field, page_model), repeat // 3)),
        ("150 AES-GCM field decryptions alone (KeyRing.decrypt)", _median_us(
            decrypt_150, repeat // 3)),
        ("reads.public: 50 rows decrypted and validated as EntryPublic", _median_us(
            lambda: reads.public(decrypting, scope, page_rows), repeat // 3)),
        ("one threadpool hop, idle (anyio.to_thread.run_sync)", anyio.run(hops, 2000)),
    ]  # fmt: skip

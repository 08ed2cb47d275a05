"""The service's real app plus an async twin of `GET /v1/entries/{id}`, for benchmarks only.

`uvicorn bench.async_variant_app:app` (from the repository root) serves everything
`app.main:app` serves, plus `GET /bench/async/entries/{entry_id}`: the same work as the sync
route (decode the JWT with the app's own function, look up the user and its login session,
check the role and build the scope with the app's own functions, load the entry, then its
people and emotions in one query each, answer `EntryPublic` with an ETag), but through
SQLAlchemy's asyncio extension (`sqlite+aiosqlite` or `postgresql+psycopg_async`) in
`async def` dependencies and route, so nothing of it runs in the threadpool.

The service opens each request's (sync) session in its unit-of-work middleware and closes it
in the threadpool; requests to the async route skip that middleware and open an
`AsyncSession` of their own instead, on an engine with the same options (the same read
isolation level on PostgreSQL). ORM events the service installs (field decryption on load)
apply to the async session too. Never imported by the service itself.
"""

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.concurrency import set_etag
from app.core.db import _configure_sqlite
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.field_encryption import KEYS
from app.core.scoping import OwnerScope
from app.core.security import decode_access_token, oauth2_scheme
from app.core.settings import Settings, get_settings
from app.entries.schemas import EmotionPublic, EntryPersonPublic, EntryPublic
from app.main import create_app
from app.models.account import LoginSession, Role, User
from app.models.diary import Entry, EntryEmotion, EntryPerson

ASYNC_PREFIX = "/bench/async/entries"


def async_url(url: str) -> str:
    """The async driver for the URL the service uses (already normalised by Settings)."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    if url.startswith("postgresql+psycopg:"):
        return "postgresql+psycopg_async:" + url.removeprefix("postgresql+psycopg:")
    raise ValueError(f"no async driver known for {url.split(':', 1)[0]}")


def create_async_db_engine(settings: Settings) -> AsyncEngine:
    """Same options as app.core.db.create_db_engine, with the async drivers, and the read
    isolation level of app.core.unit_of_work (this engine only serves reads)."""
    url = async_url(settings.database_url)
    if settings.is_sqlite:
        engine = create_async_engine(url, connect_args={"timeout": 10})
        # The same PRAGMAs, BEGIN handling and SQL functions as the sync engine.
        _configure_sqlite(engine.sync_engine, None)
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        isolation_level="REPEATABLE READ",
    )


async def get_async_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The read path of the unit of work: a session carrying the app's key ring (encrypted
    fields are decrypted as rows load), never committed, closed at the end."""
    async with AsyncSession(
        request.app.state.async_engine,
        expire_on_commit=False,
        info={KEYS: request.app.state.async_keys},
    ) as session:
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]


async def authenticated_user_async(
    session: AsyncSessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> User:
    """app.core.security.authenticated_user, awaiting the same query."""
    if not token:
        raise Unauthorized("Missing bearer token")
    user_id, login_session_id = decode_access_token(token, settings)
    result = await session.exec(
        select(User)
        .join(LoginSession, col(LoginSession.owner_id) == col(User.id))
        .where(
            col(User.id) == user_id,
            col(LoginSession.id) == login_session_id,
            col(LoginSession.revoked_at).is_(None),
        )
    )
    user = result.first()
    if user is None:
        raise Unauthorized("The access token is no longer valid")
    return user


async def _client_scope_async(
    user: Annotated[User, Depends(authenticated_user_async)],
) -> OwnerScope:
    if user.role is not Role.client:
        raise Forbidden("This endpoint is for client accounts")
    return OwnerScope(owner_id=user.id, timezone=user.timezone)


AsyncClientScope = Annotated[OwnerScope, Depends(_client_scope_async)]


async def _to_public_async(
    entries: Sequence[Entry], session: AsyncSession, scope: OwnerScope
) -> list[EntryPublic]:
    """app.entries.service.to_public: the same two queries, awaited."""
    ids = [entry.id for entry in entries]
    people: dict[uuid.UUID, list[EntryPersonPublic]] = defaultdict(list)
    emotions: dict[uuid.UUID, list[EmotionPublic]] = defaultdict(list)
    if ids:
        people_rows = await session.exec(
            select(EntryPerson.entry_id, EntryPerson.person_id, EntryPerson.quality)
            .where(*scope.conditions(EntryPerson), col(EntryPerson.entry_id).in_(ids))
            .order_by(col(EntryPerson.person_id))
        )
        for entry_id, person_id, quality in people_rows:
            people[entry_id].append(EntryPersonPublic(person_id=person_id, quality=quality))
        emotion_rows = await session.execute(
            sa_select(
                col(EntryEmotion.entry_id),
                col(EntryEmotion.label),
                col(EntryEmotion.intensity),
                col(EntryEmotion.person_id),
                col(EntryEmotion.custom),
            )
            .where(*scope.conditions(EntryEmotion), col(EntryEmotion.entry_id).in_(ids))
            .order_by(col(EntryEmotion.entry_id), col(EntryEmotion.position))
        )
        for entry_id, label, intensity, person_id, custom in emotion_rows:
            emotions[entry_id].append(
                EmotionPublic(label=label, intensity=intensity, person_id=person_id, custom=custom)
            )
    return [
        EntryPublic.model_validate(
            {**entry.model_dump(), "people": people[entry.id], "emotions": emotions[entry.id]}
        )
        for entry in entries
    ]


router = APIRouter(prefix=ASYNC_PREFIX, tags=["bench"])


@router.get("/{entry_id}", include_in_schema=False)
async def read_entry_async(
    entry_id: uuid.UUID, scope: AsyncClientScope, session: AsyncSessionDep, response: Response
) -> EntryPublic:
    """app.entries.router.read_entry with service.get, through the async engine."""
    result = await session.exec(scope.select(Entry).where(col(Entry.id) == entry_id))
    row = result.first()
    if row is None:
        raise NotFound(f"No entry with id {entry_id}")
    entry = (await _to_public_async([row], session, scope))[0]
    set_etag(response, entry)
    return entry


class _BypassForAsyncRoute:
    """Wraps a middleware so that requests to the async route go around it."""

    def __init__(self, app: ASGIApp, *, middleware_class: Any, **kwargs: Any) -> None:
        self.app = app
        self.wrapped = middleware_class(app, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(ASYNC_PREFIX + "/"):
            await self.app(scope, receive, send)
        else:
            await self.wrapped(scope, receive, send)


def create_variant_app() -> FastAPI:
    fastapi_app = create_app()
    settings: Settings = fastapi_app.state.settings
    async_engine = create_async_db_engine(settings)
    fastapi_app.state.async_engine = async_engine
    fastapi_app.include_router(router)
    for index, middleware in enumerate(fastapi_app.user_middleware):
        if middleware.cls.__name__ == "UnitOfWorkMiddleware":
            # The same key ring as the service's sessions.
            fastapi_app.state.async_keys = middleware.kwargs["keys"]
            fastapi_app.user_middleware[index] = Middleware(
                _BypassForAsyncRoute, middleware_class=middleware.cls, **middleware.kwargs
            )
    if not hasattr(fastapi_app.state, "async_keys"):
        raise RuntimeError("app.main no longer adds UnitOfWorkMiddleware: update this variant")

    service_lifespan = fastapi_app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with service_lifespan(app_) as state:
            yield state
        await async_engine.dispose()

    fastapi_app.router.lifespan_context = lifespan
    return fastapi_app


app = create_variant_app()

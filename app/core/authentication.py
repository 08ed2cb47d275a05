"""The bearer token, read once per request.

`AuthenticationMiddleware` decodes the `Authorization: Bearer` token of every request and
puts what it found on the request state, as Polar's server does: the rate limiter,
idempotency and the routes' dependencies read it from there. A token that fails its checks
is kept as the problem to answer, raised only by a route that needs a caller (`/healthz`
answers whatever the header says). Whether the token's login is still live is checked in
the database by the route's dependencies (app.core.callers).
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import Unauthorized
from app.core.security import decode_access_token
from app.core.settings import Settings

CREDENTIALS = "credentials"  # the request state's key


@dataclass(frozen=True, slots=True)
class Subject:
    """The account and login a valid access token names."""

    user_id: uuid.UUID
    login_session_id: uuid.UUID


Credentials = Subject | Unauthorized | None  # None: no bearer token sent


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[CREDENTIALS] = self._credentials(scope["headers"])
        await self.app(scope, receive, send)

    def _credentials(self, headers: list[tuple[bytes, bytes]]) -> Credentials:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    return None
                try:
                    return Subject(*decode_access_token(token, self.settings))
                except Unauthorized as problem:
                    return problem
        return None


def subject_of(state: dict[str, Any]) -> Subject | None:
    """The subject of a valid token on a request's state, if any (for the middleware)."""
    credentials = state.get(CREDENTIALS)
    return credentials if isinstance(credentials, Subject) else None


class _BearerSubject(OAuth2PasswordBearer):
    """The request's subject, as a dependency that also documents the bearer login as the
    operation's security scheme in OpenAPI."""

    async def __call__(self, request: Request) -> Subject:  # type: ignore[override]
        credentials = request.scope["state"].get(CREDENTIALS)
        if isinstance(credentials, Subject):
            return credentials
        raise credentials or Unauthorized("Missing bearer token")


bearer_subject = _BearerSubject(
    tokenUrl="/v1/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False
)
BearerSubject = Annotated[Subject, Depends(bearer_subject)]

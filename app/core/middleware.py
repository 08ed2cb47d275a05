"""Pure ASGI middleware: cheaper than BaseHTTPMiddleware on every request."""

import itertools
import os
import re
from collections.abc import Iterator, Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, problem_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_EVERY_RESPONSE = (("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"))
_API_RESPONSE = (("cache-control", "no-store"),)
CONTENT_SECURITY_POLICY = "content-security-policy"


def strict_policy(style_sources: tuple[str, ...]) -> str:
    """The Content-Security-Policy of the service's own pages: nothing from elsewhere, no
    script at all, only the listed inline stylesheets (by hash), forms posted to itself."""
    styles = " ".join(style_sources) or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _request_ids() -> Iterator[str]:
    """Unique ids without a random draw per request (uuid4 was ~7% of a `/healthz`): a
    random prefix per process, then a counter."""
    prefix = os.urandom(8).hex()
    return (f"{prefix}{n:x}" for n in itertools.count())


_request_id = _request_ids()


def _new_process_new_ids() -> None:
    global _request_id
    _request_id = _request_ids()


os.register_at_fork(after_in_child=_new_process_new_ids)  # a forked worker, a new prefix


class BodyTooLarge(HTTPException):
    """Raised from inside `receive`, so FastAPI passes it through instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """413 for bodies over the limit: at once from Content-Length, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    response = problem_response(
                        PayloadTooLarge(f"The request body is larger than {limit} bytes")
                    )
                    await response(scope, receive, send)
                    return
                break

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


class RequestIdAndHeadersMiddleware:
    """An `X-Request-ID` and nosniff on every response, no-store under /v1, and on HTML the
    strict Content-Security-Policy (unless the page declares its own) and no framing."""

    def __init__(self, app: ASGIApp, style_sources: tuple[str, ...] = ()) -> None:
        self.app = app
        self.html_headers = (
            (CONTENT_SECURITY_POLICY, strict_policy(style_sources)),
            ("x-frame-options", "DENY"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or next(_request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        is_api = scope["path"].startswith("/v1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                for name, value in _EVERY_RESPONSE + (_API_RESPONSE if is_api else ()):
                    headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in self.html_headers:
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""RFC 9457 problem details: one exception base class and the handlers that render it."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://ipt-diary.example/problems/"

logger = logging.getLogger("app.errors")


class InvalidField(BaseModel):
    field: str = Field(description="Dotted path of the invalid field, e.g. `body.people.0.quality`")
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str = Field(examples=["Validation failed"])
    status: int = Field(examples=[422])
    detail: str | None = Field(
        default=None, examples=["mood: Input should be less than or equal to 10"]
    )
    errors: list[InvalidField] | None = None


class ProblemError(Exception):
    """Base for every error the API answers on purpose."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"
    # Most errors undo the request's writes; a few must keep them (a failed login is counted).
    keeps_writes: bool = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: Sequence[InvalidField] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.errors = list(errors) if errors else None
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [e.model_dump() for e in self.errors]
        body.update(self.extra)
        return body


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class ValidationFailed(ProblemError):
    status, slug, title = 422, "validation-error", "Validation failed"

    @classmethod
    def for_field(cls, field: str, message: str, kind: str = "value_error") -> "ValidationFailed":
        return cls(
            f"{field}: {message}", errors=[InvalidField(field=field, message=message, type=kind)]
        )


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "If-Match header required"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service temporarily unavailable"

    def __init__(self, detail: str = "The database cannot be reached; retry shortly") -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


def problem_response(problem: ProblemError) -> Response:
    return JSONResponse(
        problem.to_dict(),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _field_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_problem(exc: RequestValidationError) -> ValidationFailed:
    errors = [
        InvalidField(field=_field_path(err["loc"]), message=err["msg"], type=err["type"])
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return ValidationFailed(detail, errors=errors)


def _status_problem(status: int, detail: str | None) -> ProblemError:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    problem = ProblemError(detail if detail and detail != phrase else None)
    problem.status, problem.title = status, phrase
    problem.slug = phrase.lower().replace(" ", "-")
    return problem


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        problem = cast(ProblemError, exc)
        if problem.keeps_writes:
            request.state.keeps_writes = True  # read by the unit of work
        return problem_response(problem)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        return problem_response(_validation_problem(cast(RequestValidationError, exc)))

    async def on_http(request: Request, raised: Exception) -> Response:
        exc = cast(StarletteHTTPException, raised)
        if exc.status_code == HTTPStatus.BAD_REQUEST:
            # FastAPI's only 400: a body it could not parse (a form without its multipart
            # boundary, say). An unreadable body is an invalid body: 422, like the rest.
            return problem_response(ValidationFailed.for_field("body", str(exc.detail)))
        problem = _status_problem(exc.status_code, exc.detail)
        problem.headers = dict(exc.headers or {})
        if exc.status_code == 405:
            problem.headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(problem)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Log the type and route only: messages can quote personal data.
        route = request.scope.get("route")
        logger.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            getattr(route, "path", "?"),
        )
        return problem_response(ProblemError())

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry a route declares for the problems it can return."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

"""The portal's routes (DESIGN §8, docs/portal.md): HTML pages and forms, no JSON, no script.

Every page but the login form needs a live portal login and declares `Writes`: using a login
starts its idle time again, and a therapist's read writes its audit row, both in the
request's transaction (as the API's therapist routes do). Errors are pages too
(PortalRoute): a missing or ended login goes to the login page, anything else is a page
with the status and what went wrong.
"""

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from markupsafe import Markup
from starlette.responses import Response

from app.auth import logins
from app.core.database.session import Reads, RequestDatabase, Writes, request_database
from app.core.errors import Forbidden, ProblemError, TooManyRequests
from app.core.scoping import OwnerScope
from app.core.settings import Settings, SettingsDep
from app.models.access import ShareScope
from app.portal import csrf, pages, service, sessions
from app.portal.sessions import COOKIE, PortalLogin, SignInRequired
from app.reports import service as reports
from app.reports.dependencies import SessionParam
from app.reports.schemas import BriefFormat
from app.shares import service as shares
from app.summaries.answers import kept
from app.therapist import access
from app.therapist import service as therapist_service
from app.therapist.service import CodeRefused

HOME = "/portal/"
LOGIN = "/portal/login"
CODE_REFUSED = (
    "That code is unknown, already used, revoked or expired. Ask your client for a new one."
)
_COOKIE_PATH = "/portal"


class PortalRoute(APIRoute):
    """A route whose errors are portal pages, never problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as missing:
                response = pages.redirect(f"{LOGIN}?reason={missing.reason}")
                response.delete_cookie(COOKIE, path=_COOKIE_PATH)
                return response
            except ProblemError as problem:
                return _refused(request, problem, "error.html", message=problem.detail)
            except RequestValidationError as invalid:
                # The address (a malformed id, say): the same status as the API's answer.
                fields = [f"{error['loc'][-1]}: {error['msg']}" for error in invalid.errors()]
                return pages.page(
                    "error.html", 422, title="This address is not valid", message="; ".join(fields)
                )

        return portal_handler


router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)


def _refused(request: Request, problem: ProblemError, template: str, **context: Any) -> Response:
    """A page for a problem, with its status and headers (Retry-After)."""
    if problem.keeps_writes:
        request.state.keeps_writes = True  # read by the unit of work: the attempt is counted
    context.setdefault("title", problem.title)
    return pages.page(template, problem.status, problem.headers, **context)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is signed in, as the header shows them, and their forms' CSRF token."""

    name: str
    is_therapist: bool
    timezone: str  # the account's: dates and times on its pages
    csrf_token: str


def _viewer(login: PortalLogin, settings: Settings) -> Viewer:
    token = csrf.session_token(settings.secret_key, login.login_session_id)
    user = login.user
    return Viewer(user.display_name, login.is_therapist, user.timezone, token)


def _set_cookie(response: Response, name: str, value: str, settings: Settings) -> None:
    response.set_cookie(
        name,
        value,
        path=_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.environment not in ("development", "test"),
    )


def _idle_expiry(settings: Settings) -> timedelta:
    return timedelta(hours=settings.portal_idle_hours)


async def _signed_in(request: Request, settings: SettingsDep) -> PortalLogin:
    cookie = request.cookies.get(COOKIE)
    return await request_database(request).run(sessions.use_login, cookie, _idle_expiry(settings))


SignedIn = Annotated[PortalLogin, Depends(_signed_in)]


async def _therapist(login: SignedIn) -> PortalLogin:
    if not login.is_therapist:
        raise Forbidden("This page is for therapists.")
    return login


async def _client(login: SignedIn) -> PortalLogin:
    if login.is_therapist:
        raise Forbidden("This page is for clients.")
    return login


TherapistLogin = Annotated[PortalLogin, Depends(_therapist)]
ClientLogin = Annotated[PortalLogin, Depends(_client)]


# Logging in and out


def _login_form(
    request: Request,
    settings: Settings,
    *,
    reason: str | None = None,
    refused: ProblemError | None = None,
    email: str = "",
) -> Response:
    nonce = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_nonce()
    context: dict[str, Any] = {
        "title": "Sign in",
        "csrf_token": csrf.login_token(settings.secret_key, nonce),
        "reason": reason,
        "error": refused.detail if refused else None,
        "email": email,
        "idle_hours": settings.portal_idle_hours,
    }
    response: Response
    if refused is None:
        response = pages.page("login.html", **context)
    else:
        response = _refused(request, refused, "login.html", **context)
    _set_cookie(response, csrf.LOGIN_COOKIE, nonce, settings)
    return response


@router.get("/login")
async def login_page(
    db: Reads, request: Request, settings: SettingsDep, reason: str | None = None
) -> Response:
    try:
        await db.run(sessions.find_login, request.cookies.get(COOKIE), _idle_expiry(settings))
    except SignInRequired:
        return _login_form(request, settings, reason=reason)
    return pages.redirect(HOME)


@router.post("/login")
async def login(
    db: Writes,
    request: Request,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf.check_login(settings.secret_key, request.cookies.get(csrf.LOGIN_COOKIE), csrf_token)
    try:
        user = await db.run(logins.authenticate, email, password, settings)
    except (logins.LoginFailed, TooManyRequests) as refused:
        return _login_form(request, settings, refused=refused, email=email)
    cookie = await db.run(sessions.open_login, user)
    response = pages.redirect(HOME)
    _set_cookie(response, COOKIE, cookie, settings)
    response.delete_cookie(csrf.LOGIN_COOKIE, path=_COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(
    db: Writes,
    login: SignedIn,
    settings: SettingsDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf.check_session(settings.secret_key, login.login_session_id, csrf_token)
    await db.run(sessions.close_login, login)
    response = pages.redirect(f"{LOGIN}?reason={sessions.SignInReason.signed_out}")
    response.delete_cookie(COOKIE, path=_COOKIE_PATH)
    return response


# The therapist's pages


async def _client_list(
    db: RequestDatabase,
    request: Request,
    login: PortalLogin,
    settings: Settings,
    cursor: str | None,
    *,
    added: bool = False,
    refused: ProblemError | None = None,
    code_error: str | None = None,
) -> Response:
    rows, next_cursor = await db.run(service.client_list, login.user, cursor)
    context: dict[str, Any] = {
        "title": "Your clients",
        "viewer": _viewer(login, settings),
        "rows": rows,
        "next_cursor": next_cursor,
        "added": added,
        "code_error": code_error,
        "safety_days": service.SAFETY_WINDOW.days,
    }
    if refused is not None:
        return _refused(request, refused, "clients.html", **context)
    return pages.page("clients.html", **context)


@router.get("/")
async def home(
    db: Writes,
    request: Request,
    login: SignedIn,
    settings: SettingsDep,
    session_id: SessionParam = None,
    cursor: str | None = None,
    added: bool = False,
) -> Response:
    """A therapist's clients; a client's own brief."""
    if login.is_therapist:
        return await _client_list(db, request, login, settings, cursor, added=added)
    paths = service.BriefPaths(page=HOME, pdf=f"{HOME}brief.pdf")
    return await _brief_page(
        db, request, login, settings, _own_scope(login), session_id, with_text=True, paths=paths
    )


@router.post("/links")
async def add_client(
    db: Writes,
    request: Request,
    login: TherapistLogin,
    settings: SettingsDep,
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf.check_session(settings.secret_key, login.login_session_id, csrf_token)
    try:
        await db.run(therapist_service.redeem, login.user, code, settings)
    except (CodeRefused, TooManyRequests) as refused:
        message = CODE_REFUSED if isinstance(refused, CodeRefused) else refused.detail
        return await _client_list(
            db, request, login, settings, None, refused=refused, code_error=message
        )
    return pages.redirect(f"{HOME}?added=true")


def _sees_text(client: access.ClientAccess) -> bool:
    """Entries' text only with a `full` share (the API's brief decides the same way)."""
    return client.level is ShareScope.full


@router.get("/clients/{client_id}")
async def client_brief(
    db: Writes,
    request: Request,
    client_id: uuid.UUID,
    login: TherapistLogin,
    settings: SettingsDep,
    session_id: SessionParam = None,
) -> Response:
    client = await db.run(access.granted, login.user, client_id, service.BRIEF_ACTION, full=False)
    page = f"{HOME}clients/{client_id}"
    paths = service.BriefPaths(page=page, pdf=f"{page}/brief.pdf")
    return await _brief_page(
        db,
        request,
        login,
        settings,
        client.scope,
        session_id,
        with_text=_sees_text(client),
        paths=paths,
    )


@router.get("/clients/{client_id}/brief.pdf")
async def client_brief_pdf(
    db: Writes,
    request: Request,
    client_id: uuid.UUID,
    login: TherapistLogin,
    session_id: SessionParam = None,
) -> Response:
    client = await db.run(access.granted, login.user, client_id, service.BRIEF_ACTION, full=False)
    return pages.private(
        await reports.download(
            request, db, client.scope, session_id, BriefFormat.pdf, with_text=_sees_text(client)
        )
    )


# The client's pages


def _own_scope(login: PortalLogin) -> OwnerScope:
    user = login.user
    return OwnerScope(owner_id=user.id, timezone=user.timezone, version=user.change_seq)


async def _brief_page(
    db: RequestDatabase,
    request: Request,
    login: PortalLogin,
    settings: Settings,
    scope: OwnerScope,
    session_id: uuid.UUID | None,
    *,
    with_text: bool,
    paths: service.BriefPaths,
) -> Response:
    day = reports.today(scope)
    body = await kept(request, db, scope, service.brief_body, session_id, with_text, day, paths)
    return pages.page(
        "brief.html",
        brief=True,
        title="Session brief",
        viewer=_viewer(login, settings),
        body=Markup(body.decode()),  # noqa: S704 (app.reports.render's autoescaped sections)
    )


@router.get("/brief.pdf")
async def own_brief_pdf(
    db: Writes, request: Request, login: ClientLogin, session_id: SessionParam = None
) -> Response:
    return pages.private(
        await reports.download(
            request, db, _own_scope(login), session_id, BriefFormat.pdf, with_text=True
        )
    )


@router.get("/access-log")
async def access_log(
    db: Writes, login: ClientLogin, settings: SettingsDep, cursor: str | None = None
) -> Response:
    events, next_cursor = await db.run(
        shares.access_log, _own_scope(login), limit=service.PAGE_SIZE, cursor=cursor
    )
    return pages.page(
        "access_log.html",
        title="Who read your diary",
        viewer=_viewer(login, settings),
        events=events,
        next_cursor=next_cursor,
    )


# Last: any other address under /portal is a page too, not the API's problem+json.
@router.api_route("/{path:path}", methods=["GET", "POST", "HEAD"])
async def not_found(path: str) -> Response:
    return pages.page(
        "error.html", 404, title="Page not found", message="There is no such page in the portal."
    )

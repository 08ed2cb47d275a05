"""The ASGI application: `uvicorn app.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from app.auth.router import auth_router, me_router
from app.calendar.router import router as calendar_router
from app.core import idempotency
from app.core.authentication import AuthenticationMiddleware
from app.core.change_log import install_change_log
from app.core.crypto import KeyRing
from app.core.database.engine import TransactionEngines, create_db_engine
from app.core.database.problems import install_database_problem_handlers
from app.core.errors import Problem, install_problem_handlers, problem_responses
from app.core.field_encryption import install_field_encryption
from app.core.middleware import BodyLimitMiddleware, RequestIdAndHeadersMiddleware
from app.core.observability import AccessLogMiddleware, Metrics, configure_logging
from app.core.rate_limit import RateLimitMiddleware
from app.core.settings import Settings, get_settings
from app.core.unit_of_work import UnitOfWorkMiddleware
from app.docs.router import router as docs_router
from app.emotions.router import router as emotions_router
from app.entries.router import router as entries_router
from app.export.router import router as export_router
from app.focus_areas.router import router as focus_areas_router
from app.health.router import router as health_router
from app.mail.outbox import install_outbox_wakeup
from app.mail.sender import MailSender
from app.measures.router import router as measures_router
from app.measures.router import schedule_router as measure_schedule_router
from app.people.router import router as people_router
from app.portal import pages as portal_pages
from app.portal.router import router as portal_router
from app.reminders.router import router as reminders_router
from app.reports import render as brief_render
from app.reports.router import router as reports_router
from app.safety.router import router as safety_router
from app.sessions.router import router as sessions_router
from app.shares.router import access_log_router
from app.shares.router import router as shares_router
from app.summaries.answers import Answers
from app.summaries.router import router as summaries_router
from app.sync.router import router as sync_router
from app.therapist.router import client_router as therapist_client_router
from app.therapist.router import router as therapist_router

DESCRIPTION = """
A between-session diary for Interpersonal Psychotherapy (IPT). Clients log interpersonal
events, the people involved, their emotions and mood, each linked to the focus area agreed
with their therapist.

Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`
documents; a 422 lists every invalid field in `errors`.
"""


def _openapi_with_problems(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    shared = problem_responses(413, 429, 503)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            # If-Match is required (a missing one is answered 428, not FastAPI's 422, so the
            # parameter itself has a default and the requirement is stated here).
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "If-Match":
                    parameter["required"] = True
            # Problems any route can return: the per-account rate limit, the database out of
            # reach for a moment, an oversized body.
            if path.startswith("/v1/"):
                operation["responses"].setdefault("429", shared[429])
                operation["responses"].setdefault("503", shared[503])
            if "requestBody" in operation:
                operation["responses"].setdefault("413", shared[413])
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()
    engine = create_db_engine(settings)
    engines = TransactionEngines.of(engine)
    metrics = Metrics()
    install_change_log()
    install_field_encryption()
    keys = KeyRing.from_settings(settings)
    install_outbox_wakeup()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Every instance sends the outbox's mail; a claim keeps two from sending one message.
        mail_sender = MailSender(engines, settings)
        mail_sender.start()
        try:
            yield
        finally:
            await mail_sender.stop()
            engine.dispose()

    app = FastAPI(
        title="IPT Diary API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # app.docs serves them, with their own content security policy
        redoc_url=None,
    )
    app.state.engine = engine
    app.add_route("/metrics", metrics.endpoint, include_in_schema=False)
    app.state.settings = settings
    app.state.summary_answers = Answers(settings.summary_answers_mb * 1024 * 1024)
    install_problem_handlers(app)
    install_database_problem_handlers(app)
    app.add_exception_handler(idempotency.Replayed, idempotency.replay_response)
    # Routing tries routes in this order, a regular expression each (~12% of an entry read
    # when entries came sixth): the routes a diary app calls most come first.
    for router in (
        health_router,
        entries_router,
        sync_router,
        summaries_router,
        people_router,
        focus_areas_router,
        emotions_router,
        sessions_router,
        measures_router,
        measure_schedule_router,
        safety_router,
        reminders_router,
        calendar_router,
        reports_router,
        me_router,
        auth_router,
        shares_router,
        access_log_router,
        therapist_router,
        therapist_client_router,
        export_router,
        portal_router,
        docs_router,
    ):
        app.include_router(router)
    # Outermost last: request id → access log → body limit → authentication → rate limit →
    # unit of work. Each route declares its database mode (app.core.database.session).
    app.add_middleware(UnitOfWorkMiddleware, engines=engines, keys=keys)
    if settings.rate_limit_per_minute > 0:  # 0 switches it off: then it costs nothing
        app.add_middleware(RateLimitMiddleware, engine=engines.write, settings=settings)
    app.add_middleware(AuthenticationMiddleware, settings=settings)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        per_path={"/v1/import": settings.max_import_bytes},
    )
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    app.add_middleware(
        RequestIdAndHeadersMiddleware,
        style_sources=(brief_render.STYLE_CSP_SOURCE, portal_pages.STYLE_CSP_SOURCE),
    )
    if settings.cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]
    return app


app = create_app()

"""The interactive API documentation (Swagger UI and ReDoc), which load their scripts and
styles from their CDN: the one kind of page with a policy of its own."""

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse

from app.core.middleware import CONTENT_SECURITY_POLICY

router = APIRouter(include_in_schema=False)

_DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers[CONTENT_SECURITY_POLICY] = _DOCS_POLICY
    return page


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    title = f"{request.app.title} – Swagger UI"
    return _with_policy(get_swagger_ui_html(openapi_url="/openapi.json", title=title))


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _with_policy(get_redoc_html(openapi_url="/openapi.json", title=request.app.title))

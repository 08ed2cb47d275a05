"""The portal's pages, from its Jinja2 templates (autoescaped, StrictUndefined): every byte
of HTML the portal sends comes from `templates/`.

Every page inlines the portal's stylesheet in one `<style>` that the strict CSP allows by
its hash (STYLE_CSP_SOURCE, passed to RequestIdAndHeadersMiddleware by app.main); brief
pages add the brief's own (app.reports.render.STYLE). No script, nothing fetched.
"""

import base64
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.reports import formatting
from app.reports import render as brief_render

_TEMPLATES = Path(__file__).parent / "templates"
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters.update(
    day=formatting.full_day,
    time=formatting.time_of_day,
    local=lambda moment, zone: moment.astimezone(ZoneInfo(zone)),
)

STYLE: str = (_TEMPLATES / "portal.css").read_text(encoding="utf-8")
STYLE_CSP_SOURCE: str = (
    f"'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'"
)
# Pages carry health data: no cache, shared or private, keeps them.
PRIVATE = {"Cache-Control": "no-store"}


def page(
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    brief: bool = False,
    **context: Any,
) -> HTMLResponse:
    """`template` rendered as a whole page; `brief`: it embeds a session brief."""
    context.setdefault("viewer", None)
    html = _ENVIRONMENT.get_template(template).render(
        context,
        style=Markup(STYLE),  # noqa: S704 (our stylesheet)
        brief_style=Markup(brief_render.STYLE) if brief else None,  # noqa: S704 (the brief's)
    )
    return HTMLResponse(html, status, headers={**PRIVATE, **(headers or {})})


def redirect(location: str) -> RedirectResponse:
    """See Other: after a form, and to the login page (a GET either way)."""
    return RedirectResponse(location, status_code=303, headers=PRIVATE)


def private(response: Response) -> Response:
    response.headers.update(PRIVATE)
    return response

"""The session brief (brief_data.Brief) as HTML and as PDF (DESIGN §8).

`brief_document` is a whole page that stands alone: one inline `<style>` (allowed by a CSP
`style-src` with `STYLE_CSP_SOURCE`), no script, nothing fetched. `brief_body` is its
sections, for a page of the portal to embed. `brief_pdf` is WeasyPrint's PDF of the
document, with nothing fetched either.

Every value from the diary reaches the page through Jinja2's autoescaping (or ElementTree's,
for the charts): nothing is marked safe but the stylesheet and the charts this package builds.
Charts and PDF take tens to hundreds of milliseconds and matplotlib renders one chart at a
time: call these from a worker thread, not the event loop.
"""

import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import weasyprint  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.measures.instruments import REGISTRY, SAFETY_REASONS, InstrumentSpec
from app.reports import charts, circle, formatting
from app.reports.brief_data import Brief, DayMood, DueLine, MeasurePoint, SafetyItem
from app.reports.svg import FONT_FAMILY
from app.safety.schemas import LOW_MOOD_THRESHOLD

_TEMPLATES = Path(__file__).parent / "templates"
# select_autoescape looks at the name's last extension: the templates end in .html and .svg.
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters.update(
    mean=formatting.one_decimal,
    signed=formatting.signed,
    interval=lambda bounds: formatting.interval(*bounds),
    day=formatting.weekday,
    short_day=formatting.short_day,
    full_day=formatting.full_day,
    time=formatting.time_of_day,
    words=formatting.words,
    ring=circle.ring_name,
)

STYLE: str = (_TEMPLATES / "brief.css").read_text(encoding="utf-8")
# The CSP source that allows exactly this stylesheet, as brief.html writes it.
STYLE_CSP_SOURCE: str = (
    f"'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'"
)


# The safety box counts every notice of the interval and lists the latest of them: a long
# open interval can hold hundreds, which would push the brief itself pages down.
SAFETY_LISTED = 10


@dataclass(frozen=True)
class BriefLinks:
    """Where the page links to; None: no such link (the PDF, a download)."""

    pdf: str | None
    interval: Callable[[uuid.UUID | None], str] | None  # another interval, by its session


@dataclass(frozen=True, slots=True)
class _CalendarDay:
    day: date
    mood: DayMood | None  # None: no entries that day
    shown: bool  # in the chart's window
    in_interval: bool


@dataclass(frozen=True, slots=True)
class _CalendarWeek:
    monday: date
    sessions: tuple[int, ...]
    days: tuple[_CalendarDay, ...]


@dataclass(frozen=True, slots=True)
class _MeasureChart:
    instrument: InstrumentSpec
    points: tuple[MeasurePoint, ...]
    chart: Markup


def brief_body(brief: Brief, links: BriefLinks) -> Markup:
    """The brief's sections, to embed in another page (which must allow STYLE_CSP_SOURCE
    and include STYLE for them to look right)."""
    return Markup(_ENVIRONMENT.get_template("brief_body.html").render(_context(brief, links)))  # noqa: S704 (autoescaped)


def brief_document(brief: Brief, links: BriefLinks) -> str:
    """The brief as a whole HTML document that stands alone."""
    context = _context(brief, links)
    return _ENVIRONMENT.get_template("brief.html").render(context, style=Markup(STYLE))  # noqa: S704 (our stylesheet)


def brief_pdf(brief: Brief) -> bytes:
    """The document as an A4 PDF; the same bytes for the same brief (WeasyPrint writes no
    date unless the document names one, and no file identifier unless asked)."""
    html = weasyprint.HTML(
        string=brief_document(brief, BriefLinks(pdf=None, interval=None)),
        base_url=None,
        # Asked for every URL in the document (there are none): refuse them all, and stop
        # the PDF if one is ever asked for rather than print without it.
        url_fetcher=weasyprint.URLFetcher(allowed_protocols=(), fail_on_errors=True),
    )
    pdf: bytes = html.write_pdf(pdf_identifier=False)
    return pdf


def _context(brief: Brief, links: BriefLinks) -> dict[str, Any]:
    return {
        "brief": brief,
        "links": links,
        "period": _period(brief),
        "position": _position(brief),
        "generated": _generated(brief),
        "safety_listed": _latest_safety(brief),
        "safety_earlier": max(0, len(brief.safety) - SAFETY_LISTED),
        "low_moods": sum(1 for item in brief.safety if item.reason == "low_mood"),
        "safety_answers": _safety_answer_counts(brief),
        "safety_labels": SAFETY_LABELS,
        "due": [_due_text(line) for line in brief.due or ()],
        "low_mood_threshold": LOW_MOOD_THRESHOLD,
        "current": brief.session.id if brief.session else None,
        "mood_chart": charts.mood_chart(brief, "brief-mood-chart") if brief.days else None,
        "weeks": _calendar(brief),
        "people_chart": (
            charts.people_chart(brief.people, "brief-people-chart") if brief.people else None
        ),
        "measures": _measure_charts(brief),
        "circle": _closeness_circle(brief) if brief.circle else None,
    }


def _latest_safety(brief: Brief) -> list[SafetyItem]:
    return sorted(brief.safety, key=lambda item: item.day)[-SAFETY_LISTED:]


def _period(brief: Brief) -> str:
    if brief.first_day is None:
        return f"Up to {formatting.full_day(brief.last_day)}"
    if brief.first_day.year == brief.last_day.year:
        first = formatting.weekday(brief.first_day)
    else:
        first = formatting.full_day(brief.first_day)
    return f"{first} {formatting.DASH} {formatting.full_day(brief.last_day)}"


def _position(brief: Brief) -> str:
    if brief.session is not None:
        return f"up to session {brief.session.number}, {brief.session.phase} phase"
    if brief.previous is not None:
        return f"since session {brief.previous.number} (open)"
    return "before the first session"


def _generated(brief: Brief) -> str:
    """The brief is made as of the end of a day (it is kept for that day): that day, not
    the midnight after it, which reads as tomorrow."""
    moment = brief.generated_at.astimezone(ZoneInfo(brief.timezone))
    if moment.time() == time(0):
        day = formatting.full_day(moment.date() - timedelta(days=1))
        return f"the end of {day} ({brief.timezone})"
    return f"{formatting.full_day(moment.date())}, {moment:%H:%M} ({brief.timezone})"


def _calendar(brief: Brief) -> list[_CalendarWeek]:
    """The mood chart's numbers as weeks of days, Monday first: ten rows, not seventy."""
    moods = {day.day: day for day in brief.days}
    first, last = brief.window_first_day, brief.last_day
    interval_first = brief.first_day or first
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        days = [monday + timedelta(days=offset) for offset in range(7)]
        weeks.append(
            _CalendarWeek(
                monday,
                tuple(s.number for s in brief.sessions if monday <= s.day <= days[-1]),
                tuple(
                    _CalendarDay(
                        day, moods.get(day), first <= day <= last, interval_first <= day <= last
                    )
                    for day in days
                ),
            )
        )
        monday += timedelta(weeks=1)
    return weeks


SAFETY_LABELS = {"low_mood": "Low mood"} | {
    reason.value: f"{spec.name} item {spec.safety_item.number}"
    for reason, spec in SAFETY_REASONS.items()
    if spec.safety_item
}


def _due_text(line: DueLine) -> str:
    if line.last_day is None:
        return f"{line.name} (never completed)"
    last = formatting.short_day(line.last_day)
    if line.reason == "sessions":
        count = line.sessions_since
        sessions = "session" if count == 1 else "sessions"
        return f"{line.name} ({count} {sessions} since the last, on {last})"
    return f"{line.name} ({line.days_since} days since the last, on {last})"


def _safety_answer_counts(brief: Brief) -> list[tuple[InstrumentSpec, int]]:
    """For each instrument with a safety item the client has taken: the answers above 0."""
    taken = {point.instrument for point in brief.measures}
    counts = [
        (spec, sum(1 for item in brief.safety if item.reason == reason))
        for reason, spec in SAFETY_REASONS.items()
    ]
    return [(spec, count) for spec, count in counts if count or spec.code in taken]


def _measure_charts(brief: Brief) -> list[_MeasureChart]:
    first = min([brief.window_first_day, *(point.day for point in brief.measures)])
    found = []
    for instrument in REGISTRY.values():
        points = tuple(p for p in brief.measures if p.instrument == instrument.code)
        if points:
            key = f"brief-{instrument.code}-chart"
            chart = charts.measure_chart(instrument, points, first, brief.last_day, key)
            found.append(_MeasureChart(instrument, points, chart))
    return found


def _closeness_circle(brief: Brief) -> Markup:
    layout = circle.closeness_circle(brief.circle, brief.client_name)
    template = _ENVIRONMENT.get_template("closeness.svg")
    return Markup(template.render(layout=layout, key="brief-circle-chart", font=FONT_FAMILY))  # noqa: S704 (autoescaped)

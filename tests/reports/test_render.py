"""The brief as a reader meets it: sections in DESIGN §8's order, every chart an accessible
inline SVG followed by a table of its numbers, nothing fetched, nothing a name could inject,
and the same bytes for the same brief."""

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest

from app.reports import formatting, render
from app.reports.brief_data import Brief, SafetyItem
from tests.reports import sample

NO_LINKS = render.BriefLinks(pdf=None, interval=None)
SECTIONS = [
    "Safety: look at this first",
    "Mood over time",
    "Mood with each person",
    "Measures",
    "Closeness circle",
    "Top emotions",
    "Lowest-mood entries",
]
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def document(brief: Brief) -> str:
    return render.brief_document(brief, NO_LINKS)


def headings(html: str) -> list[str]:
    return re.findall(r"<h2 id=\"brief-[a-z]+\">([^<]+)</h2>", html)


def test_the_sections_come_in_the_designs_order() -> None:
    html = document(sample.brief())

    assert headings(html) == SECTIONS
    assert html.index("Safety: look at this first") < html.index("<h1>")


def test_a_section_without_data_is_left_out() -> None:
    assert "Safety" not in headings(document(sample.without_safety()))[0]
    assert "No measures up to the end of this interval." in document(sample.without_measures())
    assert "Lowest-mood entries" not in headings(document(sample.summaries_share()))


def test_every_chart_is_a_named_described_image_followed_by_its_table() -> None:
    html = document(sample.brief())
    charts = SVG.findall(html)

    assert len(charts) == 5  # mood, people, PHQ-9, GAD-7, closeness circle
    for chart in charts:
        root = ET.fromstring(chart)  # noqa: S314 (our own output)
        namespace = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        title, desc = root[0], root[1]
        assert (title.tag, desc.tag) == (f"{namespace}title", f"{namespace}desc")
        assert root.get("aria-labelledby") == title.get("id")
        assert root.get("aria-describedby") == desc.get("id")
        assert title.text
        assert len(desc.text or "") > 40
        assert root.find(f".//{namespace}style") is None
        assert not any(element.get("style") for element in root.iter())
        after = html[html.index(chart) + len(chart) :]
        assert after.index("<table") < after.index("<svg") if "<svg" in after else "<table" in after


def test_ids_are_unique_in_the_page() -> None:
    ids = Counter(re.findall(r'\bid="([^"]+)"', document(sample.brief())))

    assert [name for name, count in ids.items() if count > 1] == []


def test_the_page_fetches_nothing_and_runs_nothing() -> None:
    html = document(sample.brief())

    assert "<script" not in html.lower()
    assert not re.search(r"\s(src|href)=", html.replace('href="#', ""))
    assert "url(" not in html
    assert "@import" not in html
    assert html.count("<style>") == 1


def test_names_and_text_are_text_never_markup() -> None:
    html = document(sample.hostile())

    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>Ann" not in html
    assert "</style><style>" not in html
    assert "<i>custom" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "Tom &amp; &#34;Jerry&#34;" in html or "Tom &amp; &quot;Jerry&quot;" in html
    for chart in SVG.findall(html):
        ET.fromstring(chart)  # noqa: S314 (each chart is still well-formed XML)


def test_a_summaries_share_carries_no_text_of_an_entry() -> None:
    html = document(sample.summaries_share())
    pdf = render.brief_pdf(sample.summaries_share())
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    for canary in sample.CANARIES:
        assert canary not in html
        assert canary not in text
    full = "\n".join(
        page.extract_text()
        for page in pypdf.PdfReader(io.BytesIO(render.brief_pdf(sample.brief()))).pages
    )
    assert all(canary in full for canary in sample.CANARIES)  # the check can fail


@pytest.mark.parametrize("make", [sample.brief, sample.open_interval, sample.hostile])
def test_the_same_brief_gives_the_same_bytes(make: object) -> None:
    assert callable(make)
    assert document(make()) == document(make())
    assert render.brief_pdf(make()) == render.brief_pdf(make())


def test_the_pdf_is_a4_with_the_pages_text() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render.brief_pdf(sample.brief())))
    box = reader.pages[0].mediabox

    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = "\n".join(page.extract_text() for page in reader.pages)
    positions = [text.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    assert "Alex Morgan" in text


def test_the_portal_links_to_the_pdf_and_the_other_intervals() -> None:
    links = render.BriefLinks(pdf="brief.pdf?x=1&y=2", interval=lambda s: f"/brief?session_id={s}")
    body = render.brief_body(sample.brief(), links)

    assert 'href="brief.pdf?x=1&amp;y=2"' in body
    current = sample.brief().session
    assert current is not None
    for interval in sample.intervals():
        linked = f'href="/brief?session_id={interval.session_id}"' in body
        assert linked is (interval.session_id != current.id)  # the page itself is no link


def test_the_safety_box_counts_every_notice_and_lists_the_latest() -> None:
    full = sample.brief()
    many = tuple(
        SafetyItem("low_mood", sample.LAST_DAY - timedelta(days=day), f"mood {day % 2} of 10")
        for day in range(1, 41)
    )
    html = document(dataclasses.replace(full, safety=many))

    assert "<strong>40</strong> entries with mood 1 or lower" in html
    listed = re.findall(r'<span class="when">([^<]+)</span>', html)
    assert len(listed) == render.SAFETY_LISTED
    assert listed[-1] == formatting.weekday(sample.LAST_DAY - timedelta(days=1))
    assert "30 earlier in this interval, not listed" in html


def test_a_brief_kept_for_a_day_says_that_day_not_the_midnight_after_it() -> None:
    london = ZoneInfo("Europe/London")
    end_of_day = datetime(2026, 12, 9, 0, 0, tzinfo=london)  # how the service builds one
    text = " ".join(document(dataclasses.replace(sample.brief(), generated_at=end_of_day)).split())
    assert "As of the end of Tue 8 Dec 2026 (Europe/London)." in text
    assert "Wed 9 Dec" not in text
    moment = datetime(2026, 12, 8, 9, 15, tzinfo=UTC)
    text = " ".join(document(dataclasses.replace(sample.brief(), generated_at=moment)).split())
    assert "As of Tue 8 Dec 2026, 09:15 (Europe/London)." in text


def test_the_measures_due_under_the_schedule_lead_the_measures() -> None:
    def text(brief: Brief) -> str:
        return " ".join(re.sub(r"<[^>]+>", "", document(brief)).split())

    assert (
        "Due under the agreed schedule: PHQ-9 (4 sessions since the last, on 24 Nov); "
        "WSAS (never completed)."
    ) in text(sample.brief())
    assert "Nothing due under the agreed schedule." in text(
        dataclasses.replace(sample.brief(), due=())
    )
    unscheduled = text(dataclasses.replace(sample.brief(), due=None))
    assert "agreed schedule" not in unscheduled

"""The session brief over HTTP, as its readers get it: the client and a linked therapist, as
HTML to look at and as a PDF to download, whose numbers are the summaries' numbers, and which
never shows what the reader may not see (DESIGN §8)."""

import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_measure,
    create_person,
    create_session,
    get_summary,
    register,
    share_with,
)

ZONE = ZoneInfo("Europe/London")
BRIEF = "/v1/reports/session-brief"
THERAPIST_BRIEF = "/v1/therapist/clients/{client_id}/reports/session-brief"
# Entry text the client and a `full` share may read; a `summaries` share never.
TEXT_CANARIES = ("CanaryEvent4f1c", "CanarySaid8d2a", "CanaryFelt1b7e")
# Written only in a private entry, with its own person: never for a therapist.
PRIVATE_CANARY = "CanaryPrivate93e0"
PRIVATE_PERSON = "CanaryPersonPriv7a"
MINUS = "\N{MINUS SIGN}"


@dataclass
class Diary:
    ana: Account
    full: Account  # a therapist with a `full` share
    summaries: Account  # a therapist with a `summaries` share
    stranger: Account  # a therapist Ana never shared with
    last_session: dict[str, Any]


def days_ago(days: int, hour: int = 19) -> str:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return (
        datetime.combine(today - timedelta(days=days), datetime.min.time(), ZONE)
        .replace(hour=hour)
        .isoformat()
    )


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Diary:
    with TestClient(app) as http:
        ana = register(http, timezone="Europe/London", name="Ana")
        mum = create_person(http, ana, name="Mum", relationship="parent", closeness=1)
        sam = create_person(http, ana, name="Sam", closeness=2)
        secret = create_person(http, ana, name=PRIVATE_PERSON, closeness=3)
        create_session(http, ana, number=1, held_at=days_ago(30, 17))
        last = create_session(http, ana, number=2, held_at=days_ago(2, 17))
        # The interval between the two sessions: Mum in four entries, Sam in three.
        for days, mood, named in [
            (27, 3, [mum]), (25, 6, [sam]), (22, 2, [mum, sam]), (18, 7, []),
            (15, 4, [mum]), (12, 6, [sam]), (9, 5, [mum]), (6, 8, []),
        ]:  # fmt: skip
            create_entry(
                http, ana, occurred_at=days_ago(days), mood=mood, event=f"On day {days}",
                people=[{"person_id": p["id"], "quality": 1} for p in named],
            )  # fmt: skip
        create_entry(
            http, ana, occurred_at=days_ago(20), mood=1, event=f"{TEXT_CANARIES[0]} a row",
            people=[{"person_id": mum["id"], "quality": -2}],
            communication={"what_i_said": TEXT_CANARIES[1], "what_i_felt": TEXT_CANARIES[2]},
        )  # fmt: skip
        create_entry(
            http, ana, occurred_at=days_ago(19), mood=0, event=PRIVATE_CANARY, private=True,
            people=[{"person_id": secret["id"], "quality": -2}],
        )  # fmt: skip
        create_measure(http, ana, answers=[2, 2, 1, 1, 1, 1, 1, 0, 1], completed_at=days_ago(10))
        full = register(http, role="therapist", name="Dr Full")
        summaries = register(http, role="therapist", name="Dr Summaries")
        share_with(http, ana, full, "full")
        share_with(http, ana, summaries, "summaries")
        stranger = register(http, role="therapist", name="Dr Stranger")
        return Diary(ana, full, summaries, stranger, last)


def brief(client: TestClient, reader: Account, diary: Diary, **params: str) -> Any:
    path = BRIEF if reader is diary.ana else THERAPIST_BRIEF.format(client_id=diary.ana.id)
    params.setdefault("session_id", diary.last_session["id"])
    return client.get(path, params=params, headers=reader.headers)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", MINUS)


def test_the_client_gets_a_page_that_stands_alone(client: TestClient, diary: Diary) -> None:
    response = brief(client, diary.ana, diary)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "content-disposition" not in response.headers
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy or "script-src 'none'" in policy
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", policy)
    html = response.text
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(" not in html
    assert html.count('role="img"') >= 4  # mood, people, PHQ-9, closeness
    for name in TEXT_CANARIES:
        assert name in html  # the client reads their own words


def test_the_pdf_is_a_download_whose_numbers_are_the_summaries(
    client: TestClient, diary: Diary
) -> None:
    response = brief(client, diary.ana, diary, format="pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert re.fullmatch(
        r'attachment; filename="session-brief-\d{4}-\d{2}-\d{2}\.pdf"',
        response.headers["content-disposition"],
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    interval = get_summary(
        client, diary.ana, "between-sessions", session_id=diary.last_session["id"]
    )
    assert f"Entries\n{interval['entries']}" in text or f"Entries {interval['entries']}" in text
    assert f"{interval['mean_mood']:.1f} of 10" in text
    by_person = get_summary(
        client, diary.ana, "mood-by-person", **{"from": interval["from"], "to": interval["to"]}
    )
    lines = text.splitlines()
    for person in by_person["people"]:
        row = next(
            line for line in lines if line.startswith(f"{person['name']} {person['entries']} ")
        )
        assert f"{person['mean_mood']:.1f}" in row
        assert f"{person['mean_mood_without']:.1f}" in row
        if person["enough"]:
            low, high = person["delta_ci95"]
            assert f"{signed(person['delta'])} {signed(low)} to {signed(high)}" in row
        else:
            assert "too few to say" in row
    assert [p["name"] for p in by_person["people"]][:2] == ["Mum", "Sam"]
    # Safety first: the mood of 1 is named on the first page, before the header.
    first_page = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert first_page.index("Safety") < first_page.index("SESSION BRIEF")


def test_a_full_share_reads_the_text_but_never_a_private_entry(
    client: TestClient, diary: Diary
) -> None:
    html = brief(client, diary.full, diary).text
    pdf = pdf_text(brief(client, diary.full, diary, format="pdf").content)

    for document in (html, pdf):
        assert TEXT_CANARIES[0] in document
        assert PRIVATE_CANARY not in document
        assert PRIVATE_PERSON not in document.split("Closeness circle")[0]


def test_a_summaries_share_shows_no_text_at_all(
    client: TestClient, diary: Diary, logged_requests: io.StringIO
) -> None:
    html = brief(client, diary.summaries, diary)
    pdf = brief(client, diary.summaries, diary, format="pdf")
    assert (html.status_code, pdf.status_code) == (200, 200)
    metrics = client.get("/metrics").text

    for document in (html.text, pdf_text(pdf.content), logged_requests.getvalue(), metrics):
        for canary in (*TEXT_CANARIES, PRIVATE_CANARY):
            assert canary not in document
    assert "Lowest-mood entries" not in html.text
    assert diary.ana.id not in logged_requests.getvalue() + metrics


def test_the_private_entry_weighs_only_in_the_clients_own_brief(
    client: TestClient, diary: Diary
) -> None:
    own = brief(client, diary.ana, diary).text
    shared = brief(client, diary.full, diary).text

    assert PRIVATE_CANARY in own  # mood 0: the lowest entry of the interval
    assert "mood 0 of 10" in own
    assert "mood 0 of 10" not in shared


def test_every_therapist_read_of_the_brief_is_in_the_access_log(
    client: TestClient, diary: Diary
) -> None:
    def reads() -> list[tuple[str, str]]:
        response = client.get("/v1/access-log", params={"limit": 100}, headers=diary.ana.headers)
        return [
            (event["therapist_id"], event["outcome"])
            for event in response.json()["items"]
            if event["action"] == "reports/session-brief"
        ]

    before = reads()
    brief(client, diary.full, diary, format="pdf")
    brief(client, diary.summaries, diary)
    assert brief(client, diary.stranger, diary).status_code == 404

    after = reads()
    assert len(after) == len(before) + 2
    assert sorted(after[:2]) == sorted([(diary.full.id, "ok"), (diary.summaries.id, "ok")])


@pytest.mark.parametrize("reader", ["ana", "full"])
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, diary: Diary, reader: str
) -> None:
    account = getattr(diary, reader)

    assert_problem(brief(client, account, diary, format="docx"), 422, "query.format")
    assert_problem(brief(client, account, diary, format="PDF"), 422, "query.format")
    assert_problem(brief(client, account, diary, session_id="session-2"), 422, "query.session_id")
    assert_problem(brief(client, account, diary, session_id=str(uuid.uuid4())), 404)


def test_another_clients_session_and_an_unlinked_client_are_not_found(
    client: TestClient, diary: Diary
) -> None:
    bob = register(client, name="Bob")
    bobs = create_session(client, bob, number=1, held_at=days_ago(3, 17))

    assert_problem(brief(client, diary.ana, diary, session_id=bobs["id"]), 404)
    assert_problem(brief(client, diary.full, diary, session_id=bobs["id"]), 404)
    assert_problem(brief(client, diary.stranger, diary), 404)
    stranger_to_bob = client.get(
        THERAPIST_BRIEF.format(client_id=bob.id), headers=diary.full.headers
    )
    assert_problem(stranger_to_bob, 404)
    assert_problem(client.get(BRIEF), 401)


def test_a_therapist_cannot_read_a_brief_as_a_client(client: TestClient, diary: Diary) -> None:
    assert_problem(client.get(BRIEF, headers=diary.full.headers), 403)


def test_the_open_interval_is_the_default(client: TestClient, diary: Diary) -> None:
    response = client.get(BRIEF, headers=diary.ana.headers)

    assert response.status_code == 200
    assert "since session 2 (open)" in response.text

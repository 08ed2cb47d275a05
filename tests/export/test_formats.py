"""CSV and FHIR exports read back with ordinary tools; every format filters and streams."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.export.support import (
    GAD7_LOINC,
    PHQ9_LOINC,
    csv_header,
    csv_rows,
    document,
    download,
    entry_doc,
    export_json,
    fhir_bundle,
    import_document,
    loinc_code,
    mood_observations,
    new_id,
    parse_bundle,
    resources,
)
from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    register,
    set_timezone,
)

CSV_COLUMNS = [
    "id", "local_date", "local_time", "occurred_at", "mood", "event", "event_type",
    "focus_area", "people", "emotions", "tags", "private",
]  # fmt: skip
FORMULA_EVENTS = {
    "=": '=HYPERLINK("http://evil.example","click")',
    "+": "+1+2 felt like too much",
    "-": "-5 degrees and a row with Sam",
    "@": "@SUM(A1:A9) of a bad week",
}

MULTILINE_EVENT = 'Late call,\nSam said "fine; whatever"'


@dataclass
class Diary:
    account: Account
    entries: dict[str, dict[str, Any]]  # by name
    people: dict[str, dict[str, Any]]
    focus_areas: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Iterator[Diary]:
    """A New York client's diary, with cells a spreadsheet would take for formulas."""
    with TestClient(app, raise_server_exceptions=False) as http:
        ana = register(http, timezone="UTC")
        set_timezone(http, ana, "America/New_York")  # the zone of now, not of registration
        people = {
            "zoe": create_person(http, ana, name="Zoë"),
            "sam": create_person(http, ana, name="Sam", relationship="partner"),
            "mallory": create_person(http, ana, name="+Mallory", relationship="colleague"),
        }
        focus_areas = {
            "move": create_focus_area(http, ana, title="Moving to Boston"),
            "work": create_focus_area(
                http, ana, problem_area="role_dispute", title="@Work dispute"
            ),
        }
        create_session(http, ana, held_at="2026-07-01T15:00:00Z")
        create_measure(http, ana, answers=[1] * 9, completed_at="2026-07-02T15:00:00Z")
        create_measure(http, ana, instrument="gad7", answers=[3, 3, 3, 3, 0, 0, 0],
                       completed_at="2026-07-03T15:00:00Z")  # fmt: skip
        entries = {
            # 02:15 UTC, written on a New York clock (EDT, UTC−4): 22:15 the evening before.
            "summer": create_entry(
                http, ana, occurred_at="2026-07-03T22:15:00-04:00", mood=7,
                event="Fireworks with Zoë and Sam", event_type="social_activity",
                focus_area_id=focus_areas["move"]["id"],
                people=[{"person_id": people["zoe"]["id"], "quality": 2},
                        {"person_id": people["sam"]["id"]}],
                emotions=[{"label": "happy", "intensity": 8},
                          {"label": "loved", "intensity": 6, "person_id": people["zoe"]["id"]}],
                tags=["summer", "family"],
            ),
            # 04:59 UTC, written on a New York clock (EST, UTC−5): 23:59 the day before.
            "winter": create_entry(
                http, ana, occurred_at="2026-11-30T23:59:00-05:00", mood=3, event=MULTILINE_EVENT,
                event_type="conversation", private=True,
            ),
            "formula": create_entry(
                http, ana, occurred_at="2026-08-01T12:00:00Z", mood=4,
                event=FORMULA_EVENTS["="], event_type="conflict",
                focus_area_id=focus_areas["work"]["id"],
                people=[{"person_id": people["mallory"]["id"], "quality": -1}],
                tags=["-2+3"],
            ),
            **{
                f"formula {start}": create_entry(
                    http, ana, occurred_at=f"2026-08-0{2 + n}T12:00:00Z", mood=5, event=event
                )
                for n, (start, event) in enumerate(list(FORMULA_EVENTS.items())[1:])
            },
        }  # fmt: skip
        yield Diary(ana, entries, people, focus_areas)


# --- CSV ----------------------------------------------------------------------------------


def test_csv_has_the_header_and_one_row_per_entry(client: TestClient, diary: Diary) -> None:
    response = download(client, diary.account, "csv")
    assert csv_header(response) == CSV_COLUMNS
    rows = csv_rows(response)
    assert sorted(row["id"] for row in rows) == sorted(e["id"] for e in diary.entries.values())


def test_csv_rows_are_on_each_entrys_own_clock_and_flattened(
    client: TestClient, diary: Diary
) -> None:
    rows = {row["id"]: row for row in csv_rows(download(client, diary.account, "csv"))}
    summer = rows[diary.entries["summer"]["id"]]
    assert (summer["local_date"], summer["local_time"]) == ("2026-07-03", "22:15")
    assert summer["mood"] == "7"
    assert summer["event"] == "Fireworks with Zoë and Sam"
    assert summer["event_type"] == "social_activity"
    assert summer["focus_area"] == "Moving to Boston"
    assert sorted(summer["people"].split("; ")) == ["Sam", "Zoë (2)"]
    assert summer["emotions"] == "happy:8; loved:6"
    assert summer["tags"] == "summer; family"
    assert summer["private"] == "no"

    winter = rows[diary.entries["winter"]["id"]]
    assert (winter["local_date"], winter["local_time"]) == ("2026-11-30", "23:59")
    assert int(winter["mood"]) == 3
    assert winter["event"] == MULTILINE_EVENT
    assert (winter["people"], winter["emotions"], winter["tags"]) == ("", "", "")
    assert winter["focus_area"] == ""
    assert winter["private"] == "yes"


def csv_cells_of(entry: dict[str, Any], doc: dict[str, Any]) -> dict[str, str]:
    """What each CSV column should hold for a JSON-exported entry (no formula-like text)."""
    names = {person["id"]: person["name"] for person in doc["people"]}
    titles = {area["id"]: area["title"] for area in doc["focus_areas"]}
    people = [
        names[p["person_id"]] + ("" if p["quality"] is None else f" ({p['quality']})")
        for p in entry["people"]
    ]
    return {
        "id": entry["id"],
        "local_date": entry["occurred_at"][:10],
        "local_time": entry["occurred_at"][11:16],
        "occurred_at": entry["occurred_at"],
        "mood": str(entry["mood"]),
        "event": entry["event"],
        "event_type": entry["event_type"],
        "focus_area": titles.get(entry["focus_area_id"], ""),
        "people": "; ".join(sorted(people)),
        "emotions": "; ".join(f"{e['label']}:{e['intensity']}" for e in entry["emotions"]),
        "tags": "; ".join(entry["tags"]),
        "private": "yes" if entry["private"] else "no",
    }


def test_every_csv_column_holds_what_the_json_export_holds(
    client: TestClient, diary: Diary
) -> None:
    doc = export_json(client, diary.account)
    rows = {row["id"]: row for row in csv_rows(download(client, diary.account, "csv"))}
    for name in ("summer", "winter"):
        entry = next(e for e in doc["entries"] if e["id"] == diary.entries[name]["id"])
        row = rows[entry["id"]]
        row["people"] = "; ".join(sorted(row["people"].split("; "))) if row["people"] else ""
        assert row == csv_cells_of(entry, doc)

    # Every row's instant and clock, whether its offset is spelled Z or +00:00.
    def instant(text: str) -> tuple[datetime, timedelta | None]:
        at = datetime.fromisoformat(text)
        return at, at.utcoffset()

    assert {row_id: instant(row["occurred_at"]) for row_id, row in rows.items()} == {
        entry["id"]: instant(entry["occurred_at"]) for entry in doc["entries"]
    }


def test_csv_cells_that_look_like_formulas_are_shown_as_text(
    client: TestClient, diary: Diary
) -> None:
    rows = {row["id"]: row for row in csv_rows(download(client, diary.account, "csv"))}
    formula = rows[diary.entries["formula"]["id"]]
    assert formula["event"] == "'" + FORMULA_EVENTS["="]
    assert formula["people"] == "'+Mallory (-1)"
    assert formula["tags"] == "'-2+3"
    assert formula["focus_area"] == "'@Work dispute"
    for start, event in list(FORMULA_EVENTS.items())[1:]:
        assert rows[diary.entries[f"formula {start}"]["id"]]["event"] == "'" + event
    # Only those: nothing else gains a quote.
    summer = rows[diary.entries["summer"]["id"]]
    assert not any(value.startswith("'") for value in summer.values())


# --- FHIR ---------------------------------------------------------------------------------


def test_fhir_is_an_r4_collection_bundle_of_the_diary(client: TestClient, diary: Diary) -> None:
    bundle = fhir_bundle(download(client, diary.account, "fhir"))
    assert bundle.type == "collection"
    patients = resources(bundle, "Patient")
    assert [patient.id for patient in patients] == [diary.account.id]

    related = resources(bundle, "RelatedPerson")
    assert {p.id: p.name[0].text for p in related} == {
        p["id"]: p["name"] for p in diary.people.values()
    }
    goals = resources(bundle, "Goal")
    assert {g.id: g.description.text for g in goals} == {
        a["id"]: a["title"] for a in diary.focus_areas.values()
    }

    observations = mood_observations(bundle)
    assert observations.keys() == {e["id"] for e in diary.entries.values()}
    for entry in diary.entries.values():
        observation = observations[entry["id"]]
        assert observation.valueQuantity.value == entry["mood"]
        emotions = [
            (c.code.coding[0].code, c.valueInteger)
            for c in observation.component or []
            if c.valueInteger is not None
        ]
        assert emotions == [(e["label"], e["intensity"]) for e in entry["emotions"]]
        focus = {reference.reference for reference in observation.focus or []}
        assert focus == {f"urn:uuid:{p['person_id']}" for p in entry["people"]}


def test_fhir_mood_observations_carry_their_focus_areas_problem_area(
    client: TestClient, diary: Diary
) -> None:
    observations = mood_observations(fhir_bundle(download(client, diary.account, "fhir")))
    problem_areas = {a["id"]: a["problem_area"] for a in diary.focus_areas.values()}
    for entry in diary.entries.values():
        areas = [
            c.valueCodeableConcept.coding[0].code
            for c in observations[entry["id"]].component or []
            if c.code.coding[0].code == "ipt-focus-area"
        ]
        expected = [problem_areas[entry["focus_area_id"]]] if entry["focus_area_id"] else []
        assert areas == expected, entry["event"]
    # Both focus areas are named, and some entries name none.
    assert {e["focus_area_id"] for e in diary.entries.values()} > set(problem_areas)


def test_fhir_has_the_phq9_and_gad7_totals_with_their_loinc_codes(
    client: TestClient, diary: Diary
) -> None:
    bundle = fhir_bundle(download(client, diary.account, "fhir"))
    totals = [
        (loinc_code(o), o.valueInteger)
        for o in resources(bundle, "Observation")
        if loinc_code(o) is not None
    ]
    assert sorted(totals) == sorted([(PHQ9_LOINC, 9), (GAD7_LOINC, 12)])


# --- every format -------------------------------------------------------------------------


def test_from_and_to_filter_the_entries_in_every_format(client: TestClient, diary: Diary) -> None:
    # `from` inclusive, `to` exclusive: the first formula entry is in, winter (at `to`) out.
    window = {"from": "2026-08-01T08:00:00-04:00", "to": "2026-12-01T04:59:00Z"}
    expected = {e["id"] for name, e in diary.entries.items() if name.startswith("formula")}
    assert len(expected) == 4

    doc = export_json(client, diary.account, **window)
    assert {e["id"] for e in doc["entries"]} == expected
    # People, focus areas, sessions and measures come whole.
    assert (len(doc["people"]), len(doc["focus_areas"])) == (3, 2)
    assert (len(doc["sessions"]), len(doc["measures"])) == (1, 2)

    rows = csv_rows(download(client, diary.account, "csv", **window))
    assert {row["id"] for row in rows} == expected
    assert len(rows) == len(expected)

    bundle = fhir_bundle(download(client, diary.account, "fhir", **window))
    assert mood_observations(bundle).keys() == expected

    only_to = export_json(client, diary.account, to="2026-08-01T12:00:00Z")
    assert [e["id"] for e in only_to["entries"]] == [diary.entries["summer"]["id"]]


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("json", "application/json", ".json"), ("csv", "text/csv;charset=utf-8", ".csv"),
     ("fhir", "application/fhir+json", ".json")],
)  # fmt: skip
def test_the_download_is_an_attachment_of_the_right_type(
    client: TestClient, diary: Diary, fmt: str, content_type: str, extension: str
) -> None:
    response = download(client, diary.account, fmt)
    assert response.headers["content-type"].lower().replace(" ", "") == content_type
    disposition = response.headers["content-disposition"]
    match = re.fullmatch(r'attachment;\s*filename="([^"/\\]+)"', disposition)
    assert match, disposition
    assert match.group(1).endswith(extension)


def test_the_json_download_without_a_format_is_json(client: TestClient, diary: Diary) -> None:
    response = client.get("/v1/export", headers=diary.account.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content)["format_version"] == 2


@pytest.mark.parametrize("fmt", ["xml", "pdf"])
def test_an_unknown_format_is_refused(client: TestClient, diary: Diary, fmt: str) -> None:
    response = client.get("/v1/export", params={"format": fmt}, headers=diary.account.headers)
    assert_problem(response, 422, "query.format")


def test_an_export_needs_a_login(client: TestClient) -> None:
    assert_problem(client.get("/v1/export", params={"format": "csv"}), 401)


# --- streaming ----------------------------------------------------------------------------

BIG = 1200


@pytest.fixture(scope="module")
def big(app: FastAPI) -> Iterator[Account]:
    """A client with 1,200 entries, written by one import."""
    with TestClient(app, raise_server_exceptions=False) as http:
        account = register(http, timezone="Europe/Paris")
        person = new_id()
        doc = document(
            people=[{"id": person, "name": "Sam", "relationship": "friend", "closeness": 2}],
            entries=[
                entry_doc(
                    occurred_at=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                    mood=i % 11,
                    event=f"Entry number {i}",
                    people=[{"person_id": person, "quality": 1}],
                    emotions=[{"label": "calm", "intensity": i % 11}],
                )
                for i in range(BIG)
            ],
        )
        assert import_document(http, account, doc)["imported"]["entries"] == BIG
        yield account


def test_a_long_diary_arrives_in_chunks_in_every_format(client: TestClient, big: Account) -> None:
    bodies: dict[str, bytes] = {}
    for fmt in ("json", "csv", "fhir"):
        with client.stream(
            "GET", "/v1/export", params={"format": fmt}, headers=big.headers
        ) as response:
            assert response.status_code == 200, fmt
            chunks = [chunk for chunk in response.iter_raw() if chunk]
        body = bodies[fmt] = b"".join(chunks)
        assert len(chunks) > 1, fmt
        # No single piece carries most of the diary: it is written as it is read.
        assert max(len(chunk) for chunk in chunks) < len(body) / 2, fmt
    assert len(json.loads(bodies["json"])["entries"]) == BIG
    assert len(bodies["csv"].decode("utf-8-sig").strip().splitlines()) == BIG + 1
    assert len(mood_observations(parse_bundle(bodies["fhir"]))) == BIG

"""A JSON export imports back with nothing lost or duplicated; a bad document writes nothing."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.export.support import (
    KINDS,
    assert_nothing_listed,
    counts,
    csv_rows,
    document,
    download,
    entry_doc,
    export_json,
    fhir_bundle,
    import_document,
    listed,
    mood_observations,
    new_id,
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
    get_summary,
    list_all,
    register,
    sync_to_end,
)
from tests.reminders.support import create_reminder

TIMEZONE = "Europe/Madrid"
VOLATILE = {"created_at", "updated_at", "version"}
# What tells two rows of a kind apart without their ids (unique within the diary below).
NATURAL_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "people": lambda row: row["name"],
    "focus_areas": lambda row: row["title"],
    "sessions": lambda row: row["number"],
    "measures": lambda row: (row["instrument"], row["completed_at"]),
    "reminders": lambda row: row["kind"],
    "entries": lambda row: (row["occurred_at"], row["event"]),
}
UNICODE_TEXTS = (
    "Zoë 🙂",
    "José Ñúñez",
    "王小明",
    "مريم",
    "Discutí con José 😤 sobre la mudanza",
    "和王小明一起吃午饭",
    "ذكرى جدتي — grandmother's birthday",
    "Disputa con José 💬",
    "New job 🚀",
)


def build_diary(client: TestClient, ana: Account) -> None:
    """A diary with every kind of row and field, in several scripts, through the API."""
    zoe = create_person(client, ana, name="Zoë 🙂", closeness=1, notes="Café au lait ☕")
    jose = create_person(client, ana, name="José Ñúñez", relationship="partner", closeness=1)
    wang = create_person(client, ana, name="王小明", relationship="colleague", satisfaction=7)
    gran = create_person(
        client, ana, name="مريم", relationship="grandparent", closeness=1, deceased=True
    )
    old = create_person(client, ana, name="Old flatmate", relationship="other", closeness=3)
    dispute = create_focus_area(
        client,
        ana,
        problem_area="role_dispute",
        title="Disputa con José 💬",
        description="Discutimos por la mudanza",
        goals=["Hablar con calma", "每周一次"],
        agreed_on="2026-10-01",
        dispute_stage="renegotiation",
        person_ids=[jose["id"], zoe["id"]],
    )
    grief = create_focus_area(
        client,
        ana,
        problem_area="grief",
        title="الحزن على الجدة",
        status="resolved",
        person_ids=[gran["id"]],
    )
    job = create_focus_area(
        client, ana, title="New job 🚀", from_role="étudiante", to_role="ingénieure"
    )
    for number, day in ((1, "01"), (2, "08"), (3, "15")):
        notes = "Notas: ¿qué pasó? 🤔" if number == 3 else None
        create_session(client, ana, number=number, held_at=f"2026-10-{day}T16:00:00Z", notes=notes)
    create_measure(client, ana, answers=[1, 2, 1, 0, 2, 1, 0, 1, 0],
                   completed_at="2026-10-01T15:00:00Z")  # fmt: skip
    create_measure(client, ana, instrument="gad7", answers=[2, 1, 1, 0, 1, 2, 0],
                   completed_at="2026-10-08T15:00:00Z")  # fmt: skip
    create_measure(client, ana, answers=[0, 1, 0, 0, 1, 0, 0, 1, 0],
                   completed_at="2026-10-15T15:00:00Z")  # fmt: skip

    def person(who: dict[str, Any], quality: int | None = None) -> dict[str, Any]:
        return {"person_id": who["id"], "quality": quality}

    def feeling(label: str, intensity: int, who: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"label": label, "intensity": intensity, "person_id": who and who["id"]}

    entries: list[dict[str, Any]] = [
        {"occurred_at": "2026-09-28T08:00:00Z", "mood": 3, "event_type": "conflict",
         "event": "Discutí con José 😤 sobre la mudanza", "focus_area_id": dispute["id"],
         "people": [person(jose, -2)],
         "emotions": [feeling("angry", 7, jose), feeling("Añoranza 🌧", 4)],
         "tags": ["casa", "😤"],
         "communication": {"what_i_said": "«No quiero mudarme»", "what_they_said": "…",
                           "what_i_could_try": "Escuchar primero"}},
        {"occurred_at": "2026-10-02T19:30:00Z", "mood": 6, "event_type": "social_activity",
         "event": "和王小明一起吃午饭", "people": [person(wang, 2), person(zoe, 1)],
         "emotions": [feeling("happy", 6)], "tags": ["工作"]},
        {"occurred_at": "2026-10-04T21:00:00Z", "mood": 2, "event_type": "loss_reminder",
         "event": "ذكرى جدتي — grandmother's birthday", "focus_area_id": grief["id"],
         "people": [person(gran)], "emotions": [feeling("sad", 8, gran)], "private": True},
        {"occurred_at": "2026-10-09T07:15:00Z", "mood": 7, "event_type": "life_change",
         "event": "Primer día en el trabajo nuevo 🚀", "focus_area_id": job["id"],
         "emotions": [feeling("excited", 8), feeling("anxious", 5)]},
        {"occurred_at": "2026-10-11T12:00:00Z", "mood": 5, "event_type": "conversation",
         "event": "Zoë called; we talked about José",
         "people": [person(zoe, 1), person(jose, 0)], "emotions": [feeling("supported", 6, zoe)]},
        {"occurred_at": "2026-10-16T22:45:00Z", "mood": 4, "event_type": "conflict",
         "event": "Cena con la familia de José — tensión", "focus_area_id": dispute["id"],
         "people": [person(jose, -1)],
         "emotions": [feeling("frustrated", 6, jose), feeling("hurt", 5, jose)],
         "communication": {"what_i_felt": "Invisible 🙈", "what_i_wanted": "Respeto"}},
        {"occurred_at": "2026-10-18T10:00:00Z", "mood": 8, "event_type": "other",
         "event": "Walked alone by the river; felt peaceful", "emotions": [feeling("peaceful", 7)]},
        {"occurred_at": "2026-10-19T10:00:00Z", "mood": 5, "event_type": "conversation",
         "event": "Old flatmate texted", "people": [person(old, 0)], "tags": ["old times"]},
    ]  # fmt: skip
    for entry in entries:
        create_entry(client, ana, **entry)
    for reminder in (
        {
            "kind": "diary",
            "rrule": "FREQ=DAILY",
            "local_time": "21:30",
            "timezone": TIMEZONE,
            "starts_on": "2026-09-28",
        },
        {
            "kind": "mood",
            "rrule": "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=20",
            "local_time": "08:00:30",
            "timezone": "Asia/Shanghai",
            "starts_on": "2026-09-30",
        },
        {
            "kind": "measure",
            "rrule": "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270630T220000Z",
            "local_time": "18:00",
            "timezone": TIMEZONE,
            "starts_on": "2026-10-01",
            "active": False,
        },
    ):
        create_reminder(client, ana, **reminder)
    # Named in an entry, so deleting archives the person.
    archived = client.delete(f"/v1/people/{old['id']}", headers={**ana.headers, "If-Match": "*"})
    assert archived.status_code == 204, archived.text


def renamed(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every id string found in `ids` replaced by what it maps to."""
    if isinstance(value, dict):
        return {key: renamed(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, ids) for item in value]
    if isinstance(value, str):
        return ids.get(value, value)
    return value


def id_map(original: dict[str, Any], copied: dict[str, Any]) -> dict[str, str]:
    """The copy's ids → the original's, matched by each row's natural key."""
    mapping: dict[str, str] = {}
    for kind, key in NATURAL_KEYS.items():
        before = {key(row): row["id"] for row in original[kind]}
        after = {key(row): row["id"] for row in copied[kind]}
        assert len(before) == len(original[kind]), f"{kind}: natural keys repeat"
        assert len(after) == len(copied[kind]), f"{kind}: rows repeat in the copy"
        assert sorted(after, key=repr) == sorted(before, key=repr), kind
        mapping.update({after[k]: before[k] for k in after})
    return mapping


def comparable(doc: dict[str, Any], ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The document without export time, account and row bookkeeping; rows in id order."""
    doc = renamed(doc, ids or {})
    rest = {key: value for key, value in doc.items() if key not in {*KINDS, "exported_at"}}
    rest.pop("account")
    return rest | {
        kind: sorted(
            ({k: v for k, v in row.items() if k not in VOLATILE} for row in doc[kind]),
            key=lambda row: row["id"],
        )
        for kind in KINDS
    }


def all_summaries(client: TestClient, account: Account, sessions: dict[int, str]) -> Any:
    return {
        "mood-by-person": get_summary(client, account, "mood-by-person"),
        "mood-timeline/day": get_summary(client, account, "mood-timeline", bucket="day"),
        "mood-timeline/week": get_summary(client, account, "mood-timeline", bucket="week"),
        "focus-areas": get_summary(client, account, "focus-areas"),
        "between-sessions/latest": get_summary(client, account, "between-sessions"),
        **{
            f"between-sessions/{number}": get_summary(
                client, account, "between-sessions", session_id=session_id
            )
            for number, session_id in sessions.items()
        },
    }


DIARY_COUNTS = counts(people=5, focus_areas=3, sessions=3, measures=3, reminders=3, entries=8)


@dataclass
class Copied:
    ana: Account
    exported: dict[str, Any]  # Ana's export
    bob: Account  # a fresh account Ana's export was imported into
    result: dict[str, Any]  # the import's answer


@pytest.fixture(scope="module")
def copied(app: FastAPI) -> Iterator[Copied]:
    with TestClient(app, raise_server_exceptions=False) as http:
        ana = register(http, timezone=TIMEZONE)
        build_diary(http, ana)
        exported = export_json(http, ana)
        bob = register(http, timezone=TIMEZONE, name="Bob")
        result = import_document(http, bob, exported)
        yield Copied(ana, exported, bob, result)


def test_the_diary_under_test_is_whole(copied: Copied) -> None:
    assert {kind: len(copied.exported[kind]) for kind in KINDS} == DIARY_COUNTS
    assert copied.exported["format_version"] == 2
    assert copied.exported["account"]["id"] == copied.ana.id


def test_an_import_into_a_fresh_account_adds_every_row(copied: Copied) -> None:
    assert copied.result == {"imported": DIARY_COUNTS, "skipped": counts()}


def test_export_import_export_gives_the_same_document(client: TestClient, copied: Copied) -> None:
    again = export_json(client, copied.bob)
    assert again["account"]["id"] == copied.bob.id
    ids = id_map(copied.exported, again)
    assert comparable(again, ids) == comparable(copied.exported)


def test_the_copy_lists_what_the_original_lists(client: TestClient, copied: Copied) -> None:
    original, copy_ = listed(client, copied.ana), listed(client, copied.bob)
    assert {kind: len(rows) for kind, rows in copy_.items()} == DIARY_COUNTS
    archived = [p["name"] for p in copy_["people"] if p["archived_at"] is not None]
    assert archived == ["Old flatmate"]
    assert [e["event"] for e in copy_["entries"]] == [e["event"] for e in original["entries"]]


def test_the_copy_reaches_the_accounts_devices_through_sync(
    client: TestClient, copied: Copied
) -> None:
    pages, _ = sync_to_end(client, copied.bob)
    synced = {kind: {row["id"] for page in pages for row in page[kind]} for kind in KINDS}
    assert synced == {kind: {row["id"] for row in copied.exported[kind]} for kind in KINDS}


def test_the_summaries_of_the_copy_equal_the_originals(client: TestClient, copied: Copied) -> None:
    again = export_json(client, copied.bob)
    ids = id_map(copied.exported, again)
    back = {original: imported for imported, original in ids.items()}
    sessions = {s["number"]: s["id"] for s in copied.exported["sessions"]}
    original = all_summaries(client, copied.ana, sessions)
    imported = all_summaries(client, copied.bob, {n: back[i] for n, i in sessions.items()})
    # Not vacuous: the summaries see the diary.
    assert original["mood-by-person"]["baseline"]["entries"] == 8
    assert len(original["mood-timeline/day"]["points"]) == 8
    assert {s["session_id"] for k, s in original.items() if k.startswith("between-sessions/")} == {
        None,
        *sessions.values(),
    }
    assert renamed(imported, ids) == original


def test_importing_the_same_document_twice_leaves_one_copy(
    client: TestClient, copied: Copied
) -> None:
    carol = register(client, timezone=TIMEZONE, name="Carol")
    first = import_document(client, carol, copied.exported)
    assert first == {"imported": DIARY_COUNTS, "skipped": counts()}
    after_first = listed(client, carol)
    exported_first = export_json(client, carol)

    second = import_document(client, carol, copied.exported)
    assert second == {"imported": counts(), "skipped": DIARY_COUNTS}
    assert listed(client, carol) == after_first
    assert {kind: len(rows) for kind, rows in after_first.items()} == DIARY_COUNTS
    exported_second = export_json(client, carol)
    exported_first.pop("exported_at")
    exported_second.pop("exported_at")
    assert exported_second == exported_first


def test_importing_into_the_same_account_changes_nothing(
    client: TestClient, copied: Copied
) -> None:
    before = export_json(client, copied.ana)
    result = import_document(client, copied.ana, before)
    assert result == {"imported": counts(), "skipped": DIARY_COUNTS}
    after = export_json(client, copied.ana)
    before.pop("exported_at")
    after.pop("exported_at")
    assert after == before  # not a version, not a timestamp moved


# --- a bad document writes nothing ---------------------------------------------------------


def valid_document() -> dict[str, Any]:
    """A small document that imports cleanly: each bad one below breaks one thing in it."""
    rosa, tom, area = new_id(), new_id(), new_id()
    return document(
        people=[
            {"id": rosa, "name": "Rosa", "relationship": "friend", "closeness": 1},
            {"id": tom, "name": "Tom", "relationship": "partner", "closeness": 1},
        ],
        focus_areas=[
            {
                "id": area,
                "problem_area": "role_dispute",
                "title": "Arguing with Tom",
                "dispute_stage": "impasse",
                "status": "active",
                "person_ids": [tom],
            },
        ],
        sessions=[{"id": new_id(), "held_at": "2026-10-01T16:00:00Z", "number": 1}],
        measures=[
            {
                "id": new_id(),
                "instrument": "phq9",
                "answers": [1] * 9,
                "completed_at": "2026-10-01T15:00:00Z",
            },
        ],
        reminders=[
            {
                "id": new_id(),
                "kind": "diary",
                "rrule": "FREQ=DAILY",
                "local_time": "20:00:00",
                "timezone": "Europe/London",
                "starts_on": "2026-10-01",
                "active": True,
            },
        ],
        entries=[
            entry_doc(
                focus_area_id=area,
                people=[{"person_id": tom, "quality": -1}],
                emotions=[{"label": "hurt", "intensity": 6, "person_id": tom}],
            ),
            entry_doc(occurred_at="2026-10-06T12:00:00Z", people=[{"person_id": rosa}]),
        ],
    )


def unknown_focus_area(doc: dict[str, Any]) -> str:
    doc["entries"][1]["focus_area_id"] = new_id()
    return "body.entries.1.focus_area_id"


def entry_person_not_in_document(doc: dict[str, Any]) -> str:
    doc["entries"][0]["people"].append({"person_id": new_id(), "quality": 1})
    return "body.entries.0.people.1.person_id"


def focus_area_person_not_in_document(doc: dict[str, Any]) -> str:
    doc["focus_areas"][0]["person_ids"].append(new_id())
    return "body.focus_areas.0.person_ids.1"


def emotion_person_not_among_the_entrys_people(doc: dict[str, Any]) -> str:
    rosa = doc["people"][0]["id"]  # in the document, but not among entry 0's people
    doc["entries"][0]["emotions"].append({"label": "sad", "intensity": 2, "person_id": rosa})
    return "body.entries.0.emotions.1.person_id"


def phq9_with_eight_answers(doc: dict[str, Any]) -> str:
    doc["measures"][0]["answers"] = [1] * 8
    return "body.measures.0.answers"


def dispute_stage_on_grief(doc: dict[str, Any]) -> str:
    doc["focus_areas"].append(
        {"id": new_id(), "problem_area": "grief", "title": "Losing Gran",
         "status": "resolved", "dispute_stage": "impasse"}
    )  # fmt: skip
    return "body.focus_areas.1.dispute_stage"


def three_active_focus_areas(doc: dict[str, Any]) -> str:
    for title in ("New job", "Moving out"):
        doc["focus_areas"].append(
            {"id": new_id(), "problem_area": "role_transition", "title": title,
             "status": "active"}
        )  # fmt: skip
    return "body.focus_areas"


def reminder_that_never_occurs(doc: dict[str, Any]) -> str:
    doc["reminders"].append(
        {"id": new_id(), "kind": "mood", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
         "local_time": "09:00:00", "timezone": "UTC", "starts_on": "2026-10-01"}
    )  # fmt: skip
    return "body.reminders.1.rrule"


def reminder_ending_before_its_start(doc: dict[str, Any]) -> str:
    doc["reminders"][0]["rrule"] = "FREQ=DAILY;UNTIL=20260930T000000Z"
    return "body.reminders.0.rrule"


def two_sessions_with_one_number(doc: dict[str, Any]) -> str:
    doc["sessions"].append({"id": new_id(), "held_at": "2026-10-08T16:00:00Z", "number": 1})
    return "body.sessions.1.number"


SEMANTIC_PROBLEMS = (
    two_sessions_with_one_number,
    unknown_focus_area,
    entry_person_not_in_document,
    focus_area_person_not_in_document,
    emotion_person_not_among_the_entrys_people,
    phq9_with_eight_answers,
    dispute_stage_on_grief,
    three_active_focus_areas,
    reminder_that_never_occurs,
    reminder_ending_before_its_start,
)


@pytest.fixture(scope="module")
def empty(app: FastAPI) -> Iterator[Account]:
    """An account no import ever succeeds into: every test checks it stays empty."""
    with TestClient(app, raise_server_exceptions=False) as http:
        yield register(http, name="Erin")


def test_the_valid_document_imports(client: TestClient) -> None:
    # The bad documents are this one with one thing broken: it must be good as it stands.
    fresh = register(client)
    result = import_document(client, fresh, valid_document())
    expected = counts(people=2, focus_areas=1, sessions=1, measures=1, reminders=1, entries=2)
    assert result == {"imported": expected, "skipped": counts()}


@pytest.mark.parametrize("breaks", SEMANTIC_PROBLEMS, ids=lambda f: f.__name__)
def test_a_document_with_one_problem_writes_nothing_and_names_the_field(
    client: TestClient, empty: Account, breaks: Callable[[dict[str, Any]], str]
) -> None:
    doc = valid_document()
    field = breaks(doc)
    body = assert_problem(client.post("/v1/import", json=doc, headers=empty.headers), 422)
    assert [error["field"] for error in body["errors"]] == [field]
    assert all(error["message"] for error in body["errors"])
    assert_nothing_listed(client, empty)


def test_a_document_with_every_problem_lists_them_all_and_writes_nothing(
    client: TestClient, empty: Account
) -> None:
    doc = valid_document()
    fields = {breaks(doc) for breaks in SEMANTIC_PROBLEMS}
    body = assert_problem(client.post("/v1/import", json=doc, headers=empty.headers), 422)
    listed_fields = [error["field"] for error in body["errors"]]
    assert sorted(listed_fields) == sorted(fields)
    assert_nothing_listed(client, empty)


def test_format_version_3_is_refused(client: TestClient, empty: Account) -> None:
    doc = valid_document() | {"format_version": 3}
    response = client.post("/v1/import", json=doc, headers=empty.headers)
    assert_problem(response, 422, "body.format_version")
    assert_nothing_listed(client, empty)


@pytest.mark.parametrize(
    ("version", "written", "kept"),
    [
        # Format 1 exported every time in UTC: its entries take the account's zone.
        (1, "2026-03-29T00:30:00Z", "2026-03-29T00:30:00Z"),
        (1, "2026-03-29T01:30:00Z", "2026-03-29T02:30:00+01:00"),
        # Format 2 entries carry their own offset, whatever the account's zone.
        (2, "2026-03-29T01:30:00Z", "2026-03-29T01:30:00Z"),
        (2, "2026-03-29T03:30:00+02:00", "2026-03-29T03:30:00+02:00"),
    ],
)
def test_an_imported_entry_keeps_its_clock_or_takes_the_accounts(
    client: TestClient, version: int, written: str, kept: str
) -> None:
    london = register(client, timezone="Europe/London")
    doc = document(entries=[entry_doc(occurred_at=written)]) | {"format_version": version}
    response = client.post("/v1/import", json=doc, headers=london.headers)
    assert response.status_code == 200, response.text
    entries = client.get("/v1/entries", headers=london.headers).json()["items"]
    assert [entry["occurred_at"] for entry in entries] == [kept]


def test_malformed_json_is_refused(client: TestClient, empty: Account) -> None:
    text = json.dumps(valid_document())
    response = client.post(
        "/v1/import",
        content=text[: len(text) // 2].encode(),
        headers={**empty.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"]
    assert all(error["field"].startswith("body") for error in body["errors"])
    assert_nothing_listed(client, empty)


def test_an_import_with_too_many_active_focus_areas_counts_those_already_there(
    client: TestClient,
) -> None:
    dana = register(client)
    create_focus_area(client, dana, title="Already active")
    doc = valid_document()  # one active focus area; a second is still allowed
    result = import_document(client, dana, doc)
    assert result["imported"]["focus_areas"] == 1
    area = {"id": new_id(), "problem_area": "grief", "title": "Third", "status": "active"}
    third = document(focus_areas=[area])
    response = client.post("/v1/import", json=third, headers=dana.headers)
    assert_problem(response, 422, "body.focus_areas")
    assert len(list_all(client, dana, "/v1/focus-areas")) == 2


def test_an_import_refuses_a_session_number_the_account_already_has(
    client: TestClient,
) -> None:
    dana = register(client)
    create_session(client, dana, number=1)
    response = client.post("/v1/import", json=valid_document(), headers=dana.headers)
    assert_problem(response, 422, "body.sessions.0.number")
    assert len(list_all(client, dana, "/v1/sessions")) == 1
    assert list_all(client, dana, "/v1/entries") == []


# --- unicode ------------------------------------------------------------------------------


def test_unicode_survives_every_format(client: TestClient, copied: Copied) -> None:
    exported = copied.exported
    texts = json.dumps(exported, ensure_ascii=False)
    for text in UNICODE_TEXTS:
        assert text in texts, text
    assert "añoranza 🌧" in [e["label"] for entry in exported["entries"] for e in entry["emotions"]]
    entries = {entry["id"]: entry for entry in exported["entries"]}
    people = {person["id"]: person["name"] for person in exported["people"]}

    rows = {row["id"]: row for row in csv_rows(download(client, copied.ana, "csv"))}
    assert rows.keys() == entries.keys()
    for entry_id, entry in entries.items():
        row = rows[entry_id]
        assert row["event"] == entry["event"]
        assert row["tags"] == "; ".join(entry["tags"])
        for person in entry["people"]:
            assert people[person["person_id"]] in row["people"]
    assert any("añoranza 🌧:4" in row["emotions"] for row in rows.values())

    bundle = fhir_bundle(download(client, copied.ana, "fhir"))
    assert {p.name[0].text for p in resources(bundle, "RelatedPerson")} == set(people.values())
    assert {g.description.text for g in resources(bundle, "Goal")} == {
        area["title"] for area in exported["focus_areas"]
    }
    observations = mood_observations(bundle)
    assert {o.id: o.note[0].text for o in observations.values()} == {
        entry_id: entry["event"] for entry_id, entry in entries.items()
    }

    again = export_json(client, copied.bob)  # and through an import
    assert {e["event"] for e in again["entries"]} == {e["event"] for e in entries.values()}
    assert {p["name"] for p in again["people"]} == set(people.values())


# --- size limits ---------------------------------------------------------------------------


def test_an_import_over_256_kib_is_accepted(client: TestClient) -> None:
    frank = register(client)
    someone = new_id()
    doc = document(
        people=[{"id": someone, "name": "Sam", "relationship": "friend", "closeness": 2}],
        entries=[
            entry_doc(
                occurred_at=f"2026-0{1 + i % 9}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                mood=i % 11,
                event=f"Entry {i}: " + "a long day, " * 330,
                people=[{"person_id": someone, "quality": i % 5 - 2}],
            )
            for i in range(300)
        ],
    )
    size = len(json.dumps(doc).encode())
    assert 256 * 1024 < size < 32 * 1024 * 1024
    result = import_document(client, frank, doc)
    assert result == {"imported": counts(people=1, entries=300), "skipped": counts()}
    assert len(list_all(client, frank, "/v1/entries")) == 300


def test_other_endpoints_still_refuse_bodies_over_256_kib(
    client: TestClient, empty: Account
) -> None:
    padded = {"occurred_at": "2026-10-05T12:00:00Z", "mood": 5, "event": "x" * (257 * 1024)}
    for path in ("/v1/entries", "/v1/people", "/v1/focus-areas"):
        assert_problem(client.post(path, json=padded, headers=empty.headers), 413)
    assert_nothing_listed(client, empty)


def test_an_import_over_32_mib_is_refused(client: TestClient, empty: Account) -> None:
    body = b'{"format_version": 2, "entries": []' + b" " * (32 * 1024 * 1024) + b"}"
    response = client.post(
        "/v1/import", content=body, headers={**empty.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 413)
    assert_nothing_listed(client, empty)

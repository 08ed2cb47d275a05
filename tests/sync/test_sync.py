"""GET /v1/sync: every change since an anchor, once, in its latest state; nothing missed."""

import base64
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    entry_body,
    register,
    sync_page,
    sync_to_end,
)
from tests.reminders.support import create_reminder

LISTS = {
    "entries": "entry",
    "people": "person",
    "focus_areas": "focus_area",
    "sessions": "session",
    "measures": "measure",
    "safety_events": "safety_event",
    "reminders": "reminder",
}
PATHS = {
    "entry": "/v1/entries",
    "person": "/v1/people",
    "focus_area": "/v1/focus-areas",
    "session": "/v1/sessions",
    "measure": "/v1/measures",
    "safety_event": "/v1/safety-events",
    "reminder": "/v1/reminders",
}

Key = tuple[str, str]  # (type, id)


@pytest.fixture(scope="module")
def reader(app: FastAPI) -> Account:
    """One account for the tests that are only refused: each registration hashes a password."""
    with TestClient(app) as setup:
        return register(setup)


def changed_rows(pages: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (type, id, row) the pages report as changed, in page order, duplicates kept."""
    return [
        (kind, row["id"], row)
        for page in pages
        for name, kind in LISTS.items()
        for row in page[name]
    ]


def tombstones(pages: list[dict[str, Any]]) -> list[Key]:
    return [(t["type"], t["id"]) for page in pages for t in page["deleted"]]


def current(client: TestClient, account: Account, kind: str, row_id: str) -> dict[str, Any]:
    response = client.get(f"{PATHS[kind]}/{row_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def write(
    client: TestClient, account: Account, method: str, kind: str, row_id: str, **json: Any
) -> None:
    """PATCH or DELETE a row with the ETag it has right now."""
    etag = client.get(f"{PATHS[kind]}/{row_id}", headers=account.headers).headers["etag"]
    response = client.request(
        method,
        f"{PATHS[kind]}/{row_id}",
        json=json or None,
        headers={**account.headers, "If-Match": etag},
    )
    assert response.status_code in {200, 204}, response.text


def assert_reports(
    client: TestClient,
    account: Account,
    pages: list[dict[str, Any]],
    changed: set[Key],
    deleted: set[Key],
) -> None:
    """The pages name exactly these rows once each, in the state a read gives now."""
    rows = changed_rows(pages)
    assert Counter((kind, row_id) for kind, row_id, _ in rows) == Counter(changed)
    assert Counter(tombstones(pages)) == Counter(deleted)
    for kind, row_id, row in rows:
        assert row == current(client, account, kind, row_id)
    for page in pages:
        for tombstone in page["deleted"]:
            assert set(tombstone) == {"type", "id", "deleted_at"}
            assert datetime.fromisoformat(tombstone["deleted_at"]).tzinfo is not None
            gone = client.get(
                f"{PATHS[tombstone['type']]}/{tombstone['id']}", headers=account.headers
            )
            assert gone.status_code == 404


def everything_of_a_client(client: TestClient, account: Account) -> set[Key]:
    mum = create_person(client, account, name="Mum", relationship="parent", closeness=1)
    focus = create_focus_area(client, account, person_ids=[mum["id"]])
    entry = create_entry(
        client, account, focus_area_id=focus["id"], people=[{"person_id": mum["id"], "quality": 1}]
    )
    session = create_session(client, account)
    measure = create_measure(client, account)
    reminder = create_reminder(client, account)
    return {
        ("person", mum["id"]),
        ("focus_area", focus["id"]),
        ("entry", entry["id"]),
        ("session", session["id"]),
        ("measure", measure["id"]),
        ("reminder", reminder["id"]),
    }


def test_sync_without_an_anchor_returns_everything(client: TestClient) -> None:
    ana = register(client)
    rows = everything_of_a_client(client, ana)

    page = sync_page(client, ana)
    assert page["has_more"] is False
    assert isinstance(page["next_anchor"], str)
    assert page["next_anchor"]
    assert_reports(client, ana, [page], rows, set())

    nothing_new = sync_page(client, ana, since=page["next_anchor"])
    assert_reports(client, ana, [nothing_new], set(), set())
    assert nothing_new["has_more"] is False


def test_a_new_client_syncs_an_empty_diary(client: TestClient) -> None:
    ana = register(client)
    page = sync_page(client, ana)
    assert page["has_more"] is False
    assert_reports(client, ana, [page], set(), set())
    # Its anchor is a good starting point: what comes next is reported from it.
    entry = create_entry(client, ana)
    assert_reports(
        client, ana, [sync_page(client, ana, page["next_anchor"])], {("entry", entry["id"])}, set()
    )


def test_sync_since_an_anchor_returns_each_changed_row_once_in_its_latest_state(
    client: TestClient,
) -> None:
    ana = register(client)
    p1, p2 = (create_person(client, ana, name=n)["id"] for n in ("Sam", "Kim"))
    f1 = create_focus_area(client, ana)["id"]
    e1, e2, e3 = (create_entry(client, ana, event=f"entry {i}")["id"] for i in range(3))
    s1 = create_session(client, ana, number=1)["id"]
    s2 = create_session(client, ana, number=2, held_at="2026-11-25T17:00:00Z")["id"]
    m1, m2 = (create_measure(client, ana)["id"] for _ in range(2))
    _, anchor = sync_to_end(client, ana)

    p3 = create_person(client, ana, name="Lee")["id"]
    f2 = create_focus_area(client, ana, problem_area="grief", title="Losing Dad")["id"]
    e4 = create_entry(client, ana, event="new")["id"]
    s3 = create_session(client, ana, number=3, held_at="2026-12-02T17:00:00Z")["id"]
    m3 = create_measure(client, ana, instrument="gad7", answers=[1] * 7)["id"]
    write(client, ana, "PATCH", "entry", e1, mood=2)
    write(client, ana, "PATCH", "entry", e1, mood=3, tags=["twice"])
    write(client, ana, "PATCH", "entry", e4, event="new, then edited")
    write(client, ana, "PATCH", "person", p1, satisfaction=4)
    write(client, ana, "PATCH", "focus_area", f1, title="Changed title")
    write(client, ana, "PATCH", "session", s1, notes="Talked about work")
    write(client, ana, "PATCH", "measure", m1, answers=[2] * 9)
    write(client, ana, "DELETE", "entry", e2)
    write(client, ana, "DELETE", "person", p2)
    write(client, ana, "DELETE", "session", s2)
    write(client, ana, "DELETE", "measure", m2)
    short_lived = create_entry(client, ana, event="typo")["id"]
    write(client, ana, "DELETE", "entry", short_lived)

    page = sync_page(client, ana, since=anchor, limit=100)
    assert page["has_more"] is False
    # The corrected PHQ-9 now has item 9 above 0: its safety notice is kept and synced.
    [event] = client.get("/v1/safety-events", headers=ana.headers).json()["items"]
    assert (event["source_type"], event["source_id"]) == ("measure", m1)
    changed = {
        ("safety_event", event["id"]),
        ("entry", e1),
        ("entry", e4),
        ("person", p1),
        ("person", p3),
        ("focus_area", f1),
        ("focus_area", f2),
        ("session", s1),
        ("session", s3),
        ("measure", m1),
        ("measure", m3),
    }
    deleted = {
        ("entry", e2),
        ("entry", short_lived),
        ("person", p2),
        ("session", s2),
        ("measure", m2),
    }
    assert_reports(client, ana, [page], changed, deleted)
    assert ("entry", e3) not in changed_rows([page])
    e1_row = next(row for kind, row_id, row in changed_rows([page]) if row_id == e1)
    assert (e1_row["mood"], e1_row["tags"], e1_row["version"]) == (3, ["twice"], 3)

    after = sync_page(client, ana, since=page["next_anchor"])
    assert_reports(client, ana, [after], set(), set())


def test_paging_with_a_small_limit_sees_every_change_exactly_once(client: TestClient) -> None:
    ana = register(client)
    _, anchor = sync_to_end(client, ana)
    entries = [create_entry(client, ana, event=f"entry {i}")["id"] for i in range(10)]
    people = [create_person(client, ana, name=f"P{i}")["id"] for i in range(4)]
    sessions = [
        create_session(client, ana, number=i + 1, held_at=f"2026-11-{10 + i}T17:00:00Z")["id"]
        for i in range(3)
    ]
    measures = [create_measure(client, ana)["id"] for _ in range(3)]
    focus = create_focus_area(client, ana)["id"]
    for entry_id in entries[:3]:
        write(client, ana, "PATCH", "entry", entry_id, mood=9)
    for entry_id in entries[3:5]:
        write(client, ana, "DELETE", "entry", entry_id)
    write(client, ana, "DELETE", "person", people[0])
    # 10 + 4 + 3 + 3 + 1 = 21 rows changed, a multiple of the page size.
    changed = (
        {("entry", e) for e in entries[:3] + entries[5:]}
        | {("person", p) for p in people[1:]}
        | {("session", s) for s in sessions}
        | {("measure", m) for m in measures}
        | {("focus_area", focus)}
    )
    deleted = {("entry", e) for e in entries[3:5]} | {("person", people[0])}
    assert len(changed) + len(deleted) == 21

    pages, _ = sync_to_end(client, ana, since=anchor, limit=3)
    sizes = [len(changed_rows([p])) + len(p["deleted"]) for p in pages]
    assert sizes == [3] * 7
    assert [p["has_more"] for p in pages] == [True] * 6 + [False]
    assert_reports(client, ana, pages, changed, deleted)


@pytest.mark.parametrize(
    "anchor",
    [
        "not-an-anchor",
        "%%%%",
        "c2VxOjEw" + "garbage",
        base64.urlsafe_b64encode(b"seq:-5").decode(),
        base64.urlsafe_b64encode(b"seq:ten").decode(),
        base64.urlsafe_b64encode(b"offset:10").decode(),
        # Well-formed, but beyond any number the server can have issued (64-bit overflow).
        base64.urlsafe_b64encode(b"seq:99999999999999999999999").decode().rstrip("="),
    ],
)
def test_an_anchor_the_api_did_not_issue_is_refused(
    client: TestClient, reader: Account, anchor: str
) -> None:
    response = client.get("/v1/sync", params={"since": anchor}, headers=reader.headers)
    assert_problem(response, 422, "query.since")


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_a_page_size_outside_1_to_100_is_refused(
    client: TestClient, reader: Account, limit: int
) -> None:
    response = client.get("/v1/sync", params={"limit": limit}, headers=reader.headers)
    assert_problem(response, 422, "query.limit")


def test_sync_is_for_the_diarys_owner_only(client: TestClient) -> None:
    assert_problem(client.get("/v1/sync"), 401)
    therapist = register(client, role="therapist", name="Dr Lee")
    assert_problem(client.get("/v1/sync", headers=therapist.headers), 403)


def test_another_clients_changes_never_appear(client: TestClient) -> None:
    ana = register(client)
    ben = register(client, name="Ben")
    _, ana_anchor = sync_to_end(client, ana)
    ana_rows = everything_of_a_client(client, ana)
    ben_rows = everything_of_a_client(client, ben)
    ben_entry = create_entry(client, ben, event="Ben only")["id"]
    write(client, ben, "PATCH", "entry", ben_entry, mood=1)  # a safety event too
    [ben_event] = client.get("/v1/safety-events", headers=ben.headers).json()["items"]
    write(client, ben, "DELETE", "entry", ben_entry)  # and its event with it
    ana_extra = create_entry(client, ana)["id"]

    full, _ = sync_to_end(client, ana)
    assert_reports(client, ana, full, ana_rows | {("entry", ana_extra)}, set())
    since, _ = sync_to_end(client, ana, since=ana_anchor, limit=2)
    assert_reports(client, ana, since, ana_rows | {("entry", ana_extra)}, set())

    bens, _ = sync_to_end(client, ben)
    deleted = {("entry", ben_entry), ("safety_event", ben_event["id"])}
    assert_reports(client, ben, bens, ben_rows, deleted)


def test_archiving_a_person_reports_them_with_archived_at(client: TestClient) -> None:
    ana = register(client)
    mum = create_person(client, ana, name="Mum")["id"]
    entry = create_entry(client, ana, people=[{"person_id": mum, "quality": 2}])["id"]
    _, anchor = sync_to_end(client, ana)

    write(client, ana, "DELETE", "person", mum)  # named in an entry: archived, not deleted

    page = sync_page(client, ana, since=anchor)
    assert [row["id"] for row in page["people"]] == [mum]
    assert page["people"][0]["archived_at"] is not None
    assert page["people"][0] == current(client, ana, "person", mum)
    assert page["deleted"] == []
    assert page["entries"] == []
    assert current(client, ana, "entry", entry)["people"] == [{"person_id": mum, "quality": 2}]


def test_deleting_a_focus_area_reports_the_entries_it_unlinked(client: TestClient) -> None:
    ana = register(client)
    focus = create_focus_area(client, ana)["id"]
    linked = [create_entry(client, ana, focus_area_id=focus)["id"] for _ in range(2)]
    unlinked_before = create_entry(client, ana)["id"]
    _, anchor = sync_to_end(client, ana)

    write(client, ana, "DELETE", "focus_area", focus)

    page = sync_page(client, ana, since=anchor)
    assert_reports(client, ana, [page], {("entry", e) for e in linked}, {("focus_area", focus)})
    for row in page["entries"]:
        assert (row["focus_area_id"], row["version"]) == (None, 2)
    assert ("entry", unlinked_before) not in {(k, i) for k, i, _ in changed_rows([page])}


def test_deleting_a_person_reports_the_focus_areas_that_named_them(client: TestClient) -> None:
    ana = register(client)
    kim = create_person(client, ana, name="Kim")["id"]
    lee = create_person(client, ana, name="Lee")["id"]
    focus = create_focus_area(client, ana, person_ids=[kim, lee])["id"]
    _, anchor = sync_to_end(client, ana)

    write(client, ana, "DELETE", "person", kim)  # named in no entry: really deleted

    page = sync_page(client, ana, since=anchor)
    assert_reports(client, ana, [page], {("focus_area", focus)}, {("person", kim)})
    assert page["focus_areas"][0]["person_ids"] == [lee]


def test_a_deleted_entry_written_again_with_its_id_syncs_as_alive(client: TestClient) -> None:
    ana = register(client)
    entry_id = str(uuid.uuid4())
    create_entry(client, ana, id=entry_id, event="first")
    _, anchor = sync_to_end(client, ana)
    write(client, ana, "DELETE", "entry", entry_id)
    create_entry(client, ana, id=entry_id, event="written again offline")

    for since in (anchor, None):
        pages, _ = sync_to_end(client, ana, since=since)
        assert_reports(client, ana, pages, {("entry", entry_id)}, set())
        assert pages[0]["entries"][0]["event"] == "written again offline"


def test_changes_committed_during_a_sync_are_seen_exactly_once(client: TestClient) -> None:
    ana = register(client)
    _, anchor = sync_to_end(client, ana)
    created: list[str] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        for i in range(8):
            response = client.post(
                "/v1/entries", json=entry_body(event=f"w{number} {i}"), headers=ana.headers
            )
            assert response.status_code == 201, response.text
            with lock:
                created.append(response.json()["id"])

    seen: list[str] = []
    reads_while_writing = 0

    def read_until_caught_up() -> None:
        nonlocal anchor
        for _ in range(200):
            page = sync_page(client, ana, since=anchor, limit=4)
            assert page["deleted"] == []
            seen.extend(row["id"] for row in page["entries"])
            anchor = page["next_anchor"]
            if not page["has_more"]:
                return
        raise AssertionError("sync never caught up")

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(writer, n) for n in range(3)]
        while not all(future.done() for future in futures):
            read_until_caught_up()
            reads_while_writing += 1
        for future in futures:
            future.result()
    read_until_caught_up()
    final = sync_page(client, ana, since=anchor)
    assert changed_rows([final]) == []
    assert final["deleted"] == []

    assert len(created) == 24
    counts = Counter(seen)
    assert set(counts) == set(created), "an entry was missed or invented"
    assert [i for i, n in counts.items() if n > 1] == [], "an entry was reported twice"
    assert reads_while_writing > 1, "the reader never overlapped with the writers"

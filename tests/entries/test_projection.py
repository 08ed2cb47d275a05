"""Every answer that carries an entry is written by the projection (app/entries/projection.py):
the database writes the JSON and Python writes only the decrypted free text into it.

Here the same entries are read through the ORM (whose load hook decrypts them), validated into
EntryPublic and dumped by pydantic: every read, page, write answer, sync page and export must
parse to exactly that, in every corner of the data (escapes, emoji, text that looks like the
projection's own slots, fractions of seconds, offsets, nulls, empty lists, custom emotions, the
order of people and emotions, SQLite's 0/1 booleans, a communication stored partial or in
another key order). The filters are checked against the same entries filtered in Python.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import chain
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from app.core.crypto import KeyRing
from app.core.errors import NotFound
from app.core.field_encryption import KEYS
from app.core.pagination import Page, encode_cursor
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.entries import service
from app.entries.schemas import EntryPublic
from app.entries.service import EntryFilters
from app.export.source import DiarySource
from app.models.diary import Entry
from tests.export.support import download
from tests.factories import (
    ODD_TEXT,
    Account,
    create_awkward_entries,
    create_entry,
    create_focus_area,
    create_person,
    entry_body,
    register,
    stored_entries,
)

ENTRY = TypeAdapter(EntryPublic)
PAGE = TypeAdapter(Page[EntryPublic])


@dataclass
class Diary:
    account: Account
    owner_id: uuid.UUID
    people: list[str]
    focus_area_id: str


def _session(app: FastAPI) -> Session:
    return Session(app.state.engine, info={KEYS: KeyRing.from_settings(app.state.settings)})


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Diary:
    with TestClient(app, raise_server_exceptions=False) as http:
        account = register(http, timezone="Asia/Kolkata")
        people = [create_person(http, account, name=name)["id"] for name in ("Zoë", "Sam", "Al")]
        area = create_focus_area(http, account, title="Moving")["id"]
        ids = create_awkward_entries(http, account, people, area)
        create_entry(http, account, occurred_at="2026-05-01T00:00:00Z", event="bare")
        changed = http.patch(
            f"/v1/entries/{ids[1]}",
            json={"event": "changed \\ once", "tags": ["later"]},
            headers={**account.headers, "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
    owner_id = uuid.UUID(account.id)
    with _session(app) as session:
        # Stored by an older version: some keys only, in another order (the hook encrypts it)
        entry = session.exec(select(Entry).where(col(Entry.id) == uuid.UUID(ids[3]))).one()
        entry.communication = {"what_i_could_try": "later", "what_i_said": 'she said "no"'}
        session.add(entry)
        session.commit()
    return Diary(account, owner_id, people, area)


def _written_clock(entry: Entry) -> datetime:
    """`occurred_at` (stored in UTC) on the clock of the offset it was written with."""
    offset = timezone(timedelta(minutes=entry.occurred_at_offset_minutes))
    return entry.occurred_at.astimezone(offset)


def _expected(app: FastAPI, diary: Diary, include_private: bool) -> list[EntryPublic]:
    """The entries as the ORM reads them, validated into EntryPublic, newest first as the
    list orders them."""
    with _session(app) as session:
        public = [
            EntryPublic.model_validate(
                {
                    **{
                        name: getattr(entry, name)
                        for name in EntryPublic.model_fields
                        if name not in {"people", "emotions", "safety"}
                    },
                    "occurred_at": _written_clock(entry),
                    "people": [p.model_dump() for p in people],
                    "emotions": [e.model_dump() for e in emotions],
                    "safety": None,
                }
            )
            for entry, people, emotions in stored_entries(session, diary.owner_id, include_private)
        ]
    return sorted(public, key=lambda e: (e.occurred_at, e.id), reverse=True)


def _json(entries: list[EntryPublic]) -> list[dict[str, Any]]:
    return [ENTRY.dump_python(entry, mode="json") for entry in entries]


def _page(items: list[EntryPublic], limit: int) -> tuple[list[EntryPublic], str | None]:
    if len(items) <= limit:
        return items, None
    return items[:limit], encode_cursor(items[limit - 1].occurred_at, items[limit - 1].id)


def test_the_diary_has_what_the_comparison_needs(app: FastAPI, diary: Diary) -> None:
    entries = _expected(app, diary, include_private=True)
    assert len(entries) == len(ODD_TEXT) + 1
    assert any(e.occurred_at.microsecond for e in entries)
    assert any(not e.occurred_at.microsecond for e in entries)
    assert any(e.private for e in entries)
    assert any(not e.private for e in entries)
    assert any(e.communication for e in entries)
    assert any(not e.communication for e in entries)
    assert any(not e.tags for e in entries)
    assert any(e.version > 1 for e in entries)
    assert any(e.focus_area_id for e in entries)
    assert any(not e.focus_area_id for e in entries)
    assert any(p.quality is None for e in entries for p in e.people)
    assert any(len(e.people) > 1 for e in entries)
    assert any(not e.people for e in entries)
    assert any(m.custom for e in entries for m in e.emotions)
    assert any(not m.custom for e in entries for m in e.emotions)
    assert any(m.person_id is None for e in entries for m in e.emotions)
    assert any(e.emotions == [] for e in entries)
    assert any(e.mood <= 1 for e in entries)
    offsets = {e.occurred_at.utcoffset() for e in entries}
    assert {timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-3)} <= offsets
    # Text shaped like the slots the free text is written into, in both databases' forms.
    assert any('"communication":null' in e.event for e in entries)
    assert any('"communication" : null' in e.event for e in entries)
    assert any('"tags" : null' in m.label for e in entries for m in e.emotions)


def test_each_entry_reads_as_pydantic_writes_it(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    for entry in _expected(app, diary, include_private=True):
        response = client.get(f"/v1/entries/{entry.id}", headers=diary.account.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["etag"] == f'"{entry.version}"'
        assert response.json() == ENTRY.dump_python(entry, mode="json")


@pytest.mark.parametrize("limit", [1, 4, 50])
def test_pages_read_as_pydantic_writes_them(
    client: TestClient, app: FastAPI, diary: Diary, limit: int
) -> None:
    remaining = _expected(app, diary, include_private=True)
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get("/v1/entries", params=params, headers=diary.account.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        items, cursor = _page(remaining, limit)
        assert response.json() == PAGE.dump_python(
            Page(items=items, next_cursor=cursor), mode="json"
        )
        remaining = remaining[len(items) :]
        if cursor is None:
            assert remaining == []
            return


@pytest.mark.parametrize("include_private", [True, False])
def test_a_scope_without_private_entries_never_reads_them(
    app: FastAPI, diary: Diary, include_private: bool
) -> None:
    scope = OwnerScope(diary.owner_id, include_private=include_private)
    everything = _expected(app, diary, include_private=True)
    expected = _expected(app, diary, include_private=include_private)
    assert include_private or len(expected) < len(everything)
    with _session(app) as session:
        body = service.page(session, scope, EntryFilters(), limit=100, cursor=None)
        assert orjson.loads(body) == {"items": _json(expected), "next_cursor": None}
        for entry in everything:
            if entry in expected:
                read = service.get_json(session, scope, entry.id)
                assert orjson.loads(read.body) == ENTRY.dump_python(entry, mode="json")
                assert read.version == entry.version
            else:
                with pytest.raises(NotFound):
                    service.get_json(session, scope, entry.id)


def _filters(diary: Diary) -> list[EntryFilters]:
    return [
        EntryFilters(),
        EntryFilters(occurred=TimeRange(start=datetime(2026, 3, 10, 10, 0, 0, 130000, tzinfo=UTC))),
        EntryFilters(occurred=TimeRange(end=datetime(2026, 4, 1, tzinfo=UTC))),
        EntryFilters(
            occurred=TimeRange(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC))
        ),
        EntryFilters(person_id=uuid.UUID(diary.people[1])),
        EntryFilters(focus_area_id=uuid.UUID(diary.focus_area_id), mood_min=3),
        EntryFilters(mood_min=2, mood_max=6),
        EntryFilters(emotion="calm", mood_max=8),
        EntryFilters(emotion="hurt"),
        EntryFilters(person_id=uuid.uuid4()),
    ]


def _matches(entry: EntryPublic, filters: EntryFilters) -> bool:
    """The list's filters, as the API documents them, applied in Python."""
    start, end = filters.occurred.start, filters.occurred.end
    return (
        (start is None or entry.occurred_at >= start)
        and (end is None or entry.occurred_at < end)
        and (filters.person_id is None or filters.person_id in {p.person_id for p in entry.people})
        and (filters.focus_area_id is None or entry.focus_area_id == filters.focus_area_id)
        and (filters.emotion is None or filters.emotion in {e.label for e in entry.emotions})
        and (filters.mood_min is None or entry.mood >= filters.mood_min)
        and (filters.mood_max is None or entry.mood <= filters.mood_max)
    )


@pytest.mark.parametrize("include_private", [True, False])
def test_filtered_pages_hold_the_entries_the_filters_describe(
    app: FastAPI, diary: Diary, include_private: bool
) -> None:
    """Every filter, through the cursor: the pages together are the entries that match,
    newest first, for the client's scope and the therapist's."""
    scope = OwnerScope(diary.owner_id, include_private=include_private)
    entries = _expected(app, diary, include_private)
    matched_some = 0
    with _session(app) as session:
        for filters in _filters(diary):
            expected = [entry for entry in entries if _matches(entry, filters)]
            cursor: str | None = None
            read: list[dict[str, Any]] = []
            while True:
                page = orjson.loads(service.page(session, scope, filters, limit=3, cursor=cursor))
                assert len(page["items"]) <= 3
                read += page["items"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert read == _json(expected), filters
            matched_some += 0 < len(expected) < len(entries)
    assert matched_some >= 6  # the filters do select, not only all or nothing


def test_a_write_answers_what_a_read_then_shows(
    client: TestClient, diary: Diary, app: FastAPI
) -> None:
    created = client.post(
        "/v1/entries", json=entry_body(mood=1, event=ODD_TEXT[-1]), headers=diary.account.headers
    )
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer.pop("safety")["reason"] == "low_mood"
    read = client.get(f"/v1/entries/{answer['id']}", headers=diary.account.headers)
    assert read.json() == {**answer, "safety": None}
    assert created.headers["etag"] == read.headers["etag"] == '"1"'
    changed = client.patch(
        f"/v1/entries/{answer['id']}",
        json={"mood": 7, "tags": ['"tags":null']},
        headers={**diary.account.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    updated_at = changed.json()["updated_at"]
    assert changed.json() == {
        **answer,
        "mood": 7,
        "tags": ['"tags":null'],
        "version": 2,
        "updated_at": updated_at,
    } | {"safety": None}
    assert client.get(f"/v1/entries/{answer['id']}", headers=diary.account.headers).json() == (
        changed.json()
    )
    deleted = client.delete(
        f"/v1/entries/{answer['id']}", headers={**diary.account.headers, "If-Match": '"2"'}
    )
    assert deleted.status_code == 204


def test_the_json_download_holds_each_entry_as_the_api_shows_it(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    document = download(client, diary.account, "json").json()
    oldest_first = list(reversed(_expected(app, diary, include_private=True)))
    assert document["entries"] == _json(oldest_first)


@pytest.mark.parametrize("include_private", [True, False])
def test_the_entries_for_csv_and_fhir_are_the_same_values(
    app: FastAPI, diary: Diary, include_private: bool
) -> None:
    scope = OwnerScope(diary.owner_id, include_private=include_private)
    with _session(app) as session:
        source = DiarySource(session=session, scope=scope, occurred=TimeRange())
        as_dicts = list(chain.from_iterable(source.entry_batches()))
        as_text = orjson.loads(b"[" + b",".join(source.entry_json_batches()) + b"]")
    expected = _json(list(reversed(_expected(app, diary, include_private))))
    assert as_dicts == expected
    assert as_text == expected

"""The export's entries, written as JSON text by the database, are what orjson writes.

app/export/source.py has the database write each entry's JSON and puts only the decrypted
free text in. Here the same entries are read through the ORM, as the API has them, and written
by orjson as the export always wrote them: the bytes must be equal, in every corner of the data
(escapes, fractions of seconds, offsets, nulls, empty lists, the order of people and emotions).
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.crypto import KeyRing
from app.core.field_encryption import KEYS
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.export.source import DiarySource
from tests.export.support import download
from tests.factories import (
    ODD_TEXT,
    Account,
    create_awkward_entries,
    create_entry,
    create_focus_area,
    create_person,
    register,
    stored_entries,
)


@dataclass
class Diary:
    account: Account
    owner_id: uuid.UUID


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Iterator[Diary]:
    with TestClient(app, raise_server_exceptions=False) as http:
        account = register(http, timezone="Asia/Kolkata")
        people = [create_person(http, account, name=name)["id"] for name in ("Zoë", "Sam", "Al")]
        area = create_focus_area(http, account, title="Moving")["id"]
        create_awkward_entries(http, account, people, area)
        create_entry(http, account, occurred_at="2026-05-01T00:00:00Z", event="bare")
        yield Diary(account, uuid.UUID(account.id))


def _orm_entries(app: FastAPI, diary: Diary, include_private: bool) -> list[dict[str, Any]]:
    """The entries as the ORM reads them (decrypted by its load hook), in the export's shape."""
    keys = KeyRing.from_settings(app.state.settings)
    with Session(app.state.engine, info={KEYS: keys}) as session:
        return [
            {
                "created_at": entry.created_at,
                "updated_at": entry.updated_at,
                "version": entry.version,
                "occurred_at": entry.occurred_at,
                "mood": entry.mood,
                "event": entry.event,
                "event_type": entry.event_type,
                "focus_area_id": str(entry.focus_area_id) if entry.focus_area_id else None,
                "private": entry.private,
                "tags": entry.tags,
                "id": str(entry.id),
                "communication": entry.communication,
                "people": [{"person_id": str(p.person_id), "quality": p.quality} for p in people],
                "emotions": [
                    {
                        "label": e.label,
                        "intensity": e.intensity,
                        "person_id": str(e.person_id) if e.person_id else None,
                        "custom": e.custom,
                    }
                    for e in emotions
                ],
            }
            for entry, people, emotions in stored_entries(session, diary.owner_id, include_private)
        ]


def _written(entries: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(entries, option=orjson.OPT_UTC_Z)


def test_the_diary_has_what_the_comparison_needs(app: FastAPI, diary: Diary) -> None:
    entries = _orm_entries(app, diary, include_private=True)
    assert len(entries) == len(ODD_TEXT) + 1
    assert any(e["occurred_at"].microsecond for e in entries)
    assert any(not e["occurred_at"].microsecond for e in entries)
    assert any(e["communication"] for e in entries)
    assert any(not e["tags"] for e in entries)
    assert any(p["quality"] is None for e in entries for p in e["people"])
    assert any(len(e["people"]) > 1 for e in entries)
    assert any(m["custom"] for e in entries for m in e["emotions"])
    assert any(not m["custom"] for e in entries for m in e["emotions"])
    assert any(e["emotions"] == [] for e in entries)


def test_the_json_download_writes_each_entry_as_orjson_does(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    body = download(client, diary.account, "json").content
    _, _, entries = body.partition(b',"entries":')
    assert entries[:-1] == _written(_orm_entries(app, diary, include_private=True))


@pytest.mark.parametrize("include_private", [True, False])
def test_the_entries_for_csv_and_fhir_are_the_same_values(
    app: FastAPI, diary: Diary, include_private: bool
) -> None:
    keys = KeyRing.from_settings(app.state.settings)
    scope = OwnerScope(diary.owner_id, include_private=include_private)
    with Session(app.state.engine, info={KEYS: keys}) as session:
        source = DiarySource(session=session, scope=scope, occurred=TimeRange())
        as_dicts = _written(list(chain.from_iterable(source.entry_batches())))
        as_text = b"[" + b",".join(source.entry_json_batches()) + b"]"
    expected = _written(_orm_entries(app, diary, include_private))
    assert as_dicts == expected
    assert as_text == expected

"""Two accounts that hold rows with the same ids (one imported the other's export) never
see into each other: whatever one changes, everything the other reads stays byte-for-byte
the same."""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_person,
    create_session,
    register,
)

# Everything an account reads of its diary: lists, summaries, a sync page and the export.
READS = (
    "/v1/entries?limit=100",
    "/v1/people?include_archived=true&limit=100",
    "/v1/focus-areas?limit=100",
    "/v1/sessions?limit=100",
    "/v1/summaries/mood-by-person",
    "/v1/summaries/mood-timeline?bucket=day",
    "/v1/summaries/mood-timeline?bucket=week",
    "/v1/summaries/focus-areas",
    "/v1/summaries/between-sessions",
    "/v1/sync?limit=100",
    "/v1/export?format=json",
    "/v1/export?format=csv",
    "/v1/export?format=fhir",
)
_EXPORT_TIME = re.compile(rb'"(exported_at|timestamp)":\s*"[^"]*"')


def everything_read(client: TestClient, account: Account) -> dict[str, bytes]:
    read: dict[str, bytes] = {}
    for path in READS:
        response = client.get(path, headers=account.headers)
        assert response.status_code == 200, (path, response.text)
        # When the export was made is the only thing allowed to differ between two reads.
        read[path] = _EXPORT_TIME.sub(rb'"\1": ""', response.content)
    return read


@dataclass(frozen=True)
class Twins:
    ana: Account
    ben: Account
    person_id: str
    focus_area_id: str
    entry_id: str


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    """No kept summary answers: every summary below is computed afresh from the database
    (a kept answer of the other account would hide a query that crossed owners)."""
    app = create_app(make_settings(database_url, summary_answers_mb=0))
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def twins(client: TestClient) -> Twins:
    """Ana's diary with client-chosen ids, imported into Ben's account: the same ids."""
    ana, ben = register(client), register(client, name="Ben")
    person = create_person(client, ana, id=str(uuid.uuid4()), name="Sam", notes="Ana's Sam")
    focus = create_focus_area(
        client, ana, id=str(uuid.uuid4()), title="Moving", person_ids=[person["id"]]
    )
    entry = create_entry(
        client,
        ana,
        id=str(uuid.uuid4()),
        mood=6,
        event="Ana's evening",
        focus_area_id=focus["id"],
        people=[{"person_id": person["id"], "quality": 1}],
    )
    create_entry(client, ana, occurred_at="2026-11-10T09:00:00Z", mood=4, event="earlier")
    create_session(client, ana, held_at="2026-11-12T17:00:00Z", number=1)
    document = client.get("/v1/export", headers=ana.headers)
    imported = client.post("/v1/import", content=document.content, headers={
        **ben.headers, "content-type": "application/json"})  # fmt: skip
    assert imported.status_code == 200, imported.text
    assert client.get(f"/v1/entries/{entry['id']}", headers=ben.headers).status_code == 200
    return Twins(ana, ben, person["id"], focus["id"], entry["id"])


def _sent(response: Any) -> None:
    assert response.status_code in {200, 204}, response.text


def _if_match(client: TestClient, author: Account, path: str) -> dict[str, str]:
    etag = client.get(path, headers=author.headers).headers["etag"]
    return {**author.headers, "If-Match": etag}


def create_an_entry(client: TestClient, author: Account, twins: Twins) -> None:
    people = [{"person_id": twins.person_id, "quality": -1}]
    create_entry(client, author, mood=1, event="new", people=people)


def update_an_entry(client: TestClient, author: Account, twins: Twins) -> None:
    path = f"/v1/entries/{twins.entry_id}"
    change = {"mood": 0, "event": "changed"}
    _sent(client.patch(path, json=change, headers=_if_match(client, author, path)))


def delete_an_entry(client: TestClient, author: Account, twins: Twins) -> None:
    path = f"/v1/entries/{twins.entry_id}"
    _sent(client.delete(path, headers=_if_match(client, author, path)))


def create_a_person(client: TestClient, author: Account, twins: Twins) -> None:
    create_person(client, author, name="Kim", closeness=1)


def update_a_person(client: TestClient, author: Account, twins: Twins) -> None:
    path = f"/v1/people/{twins.person_id}"
    change = {"name": "Renamed", "closeness": 3}
    _sent(client.patch(path, json=change, headers=_if_match(client, author, path)))


def delete_a_person(client: TestClient, author: Account, twins: Twins) -> None:
    path = f"/v1/people/{twins.person_id}"
    _sent(client.delete(path, headers=_if_match(client, author, path)))


def update_a_focus_area(client: TestClient, author: Account, twins: Twins) -> None:
    path = f"/v1/focus-areas/{twins.focus_area_id}"
    _sent(client.patch(path, json={"title": "Changed"}, headers=_if_match(client, author, path)))


CHANGES: list[Callable[[TestClient, Account, Twins], None]] = [
    create_an_entry, update_an_entry, delete_an_entry,
    create_a_person, update_a_person, delete_a_person, update_a_focus_area,
]  # fmt: skip


@pytest.mark.parametrize("writer", ["original", "importer"])
@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_a_change_to_one_diary_leaves_everything_the_other_reads_unchanged(
    client: TestClient,
    twins: Twins,
    change: Callable[[TestClient, Account, Twins], None],
    writer: str,
) -> None:
    author, other = (twins.ana, twins.ben) if writer == "original" else (twins.ben, twins.ana)
    author_before, other_before = everything_read(client, author), everything_read(client, other)
    change(client, author, twins)
    author_after = everything_read(client, author)
    # The change happened: it shows in the author's own entries or people, and its export.
    changed = {path for path in READS if author_after[path] != author_before[path]}
    assert "/v1/export?format=json" in changed
    assert "/v1/sync?limit=100" in changed
    assert everything_read(client, other) == other_before

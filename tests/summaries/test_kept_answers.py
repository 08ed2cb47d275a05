"""A summary's answer is kept until the diary changes (app/summaries/answers.py): after every
kind of write, each summary is what a fresh app, which has kept nothing, computes."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    register,
    set_timezone,
    share_with,
)

KINDS = ("mood-by-person", "mood-timeline", "focus-areas", "between-sessions")


@pytest.fixture
def fresh(database_url: str) -> Iterator[TestClient]:
    """Another app on the same database, that has kept no answer."""
    other = create_app(make_settings(database_url))
    with TestClient(other) as client:
        yield client
    other.state.engine.dispose()


def summaries(client: TestClient, path: str, viewer: Account) -> dict[str, Any]:
    answers = {}
    for kind in KINDS:
        response = client.get(f"{path}/{kind}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        answers[kind] = response.json()
    return answers


def etag(client: TestClient, account: Account, path: str) -> str:
    return str(client.get(path, headers=account.headers).headers["etag"])


def test_every_write_is_seen_by_the_next_summary(client: TestClient, fresh: TestClient) -> None:
    ana = register(client)
    therapist = register(client, role="therapist")
    share_with(client, ana, therapist, "summaries")
    mum = create_person(client, ana, name="Mum")
    area = create_focus_area(client, ana, title="Grief")
    entry = create_entry(client, ana, mood=3, people=[{"person_id": mum["id"]}])

    def patch(path: str, **json: Any) -> None:
        headers = {**ana.headers, "If-Match": etag(client, ana, path)}
        assert client.patch(path, json=json, headers=headers).status_code == 200

    writes: list[tuple[str, Callable[[], object]]] = [
        ("an entry", lambda: create_entry(client, ana, mood=8, focus_area_id=area["id"])),
        ("a mood", lambda: patch(f"/v1/entries/{entry['id']}", mood=1)),
        ("the people of an entry", lambda: patch(f"/v1/entries/{entry['id']}", people=[])),
        ("an entry made private", lambda: patch(f"/v1/entries/{entry['id']}", private=True)),
        ("a person's name", lambda: patch(f"/v1/people/{mum['id']}", name="Mother")),
        ("a focus area's title", lambda: patch(f"/v1/focus-areas/{area['id']}", title="Loss")),
        ("a session", lambda: create_session(client, ana, held_at="2026-11-21T10:00:00Z")),
        ("a measure", lambda: create_measure(client, ana, completed_at="2026-11-22T10:00:00Z")),
        ("the account's zone", lambda: set_timezone(client, ana, "Asia/Tokyo")),
        (
            "a deleted focus area",
            lambda: client.delete(
                f"/v1/focus-areas/{area['id']}", headers={**ana.headers, "If-Match": "*"}
            ),
        ),
        (
            "a deleted entry",
            lambda: client.delete(
                f"/v1/entries/{entry['id']}", headers={**ana.headers, "If-Match": "*"}
            ),
        ),
    ]
    therapists_path = f"/v1/therapist/clients/{ana.id}/summaries"

    def both(http: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
        return summaries(http, "/v1/summaries", ana), summaries(http, therapists_path, therapist)

    for what, write in writes:
        before = both(client)  # kept, the client's and the therapist's
        write()
        after = both(client)
        assert after == both(fresh), what
        assert after != before, f"{what} changed no summary"


def test_a_kept_answer_reads_nothing_but_the_caller(client: TestClient, app: FastAPI) -> None:
    ana = register(client)
    create_entry(client, ana, mood=4)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    first = client.get("/v1/summaries/mood-by-person", headers=ana.headers)
    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        again = client.get("/v1/summaries/mood-by-person", headers=ana.headers)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert again.content == first.content
    # The caller's login, with the diary's version, and nothing else.
    [read] = [statement for statement in statements if statement.startswith("SELECT")]
    assert "change_seq" in read

"""Two devices editing one row: If-Match and the row's version decide, nothing is lost."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    register,
)

ROUNDS = 10


@dataclass(frozen=True)
class Resource:
    path: str
    create: Callable[..., dict[str, Any]]
    change_a: dict[str, Any]
    change_b: dict[str, Any]

    def __str__(self) -> str:
        return self.path


RESOURCES = [
    Resource("/v1/entries", create_entry, {"mood": 8}, {"event": "Phone call with Mum"}),
    Resource("/v1/people", create_person, {"satisfaction": 7}, {"name": "Samuel"}),
    Resource("/v1/focus-areas", create_focus_area, {"title": "Promotion"}, {"description": "B"}),
    Resource("/v1/sessions", create_session, {"notes": "Went well"}, {"number": 2}),
    Resource(
        "/v1/measures",
        create_measure,
        {"answers": [1] * 9},
        {"completed_at": "2026-11-21T09:00:00Z"},
    ),
]


def patch(
    client: TestClient, account: Account, url: str, changes: dict[str, Any], if_match: str
) -> httpx.Response:
    return client.patch(url, json=changes, headers={**account.headers, "If-Match": if_match})


def delete(client: TestClient, account: Account, url: str, if_match: str) -> httpx.Response:
    return client.delete(url, headers={**account.headers, "If-Match": if_match})


def assert_stale(response: httpx.Response, current_etag: str) -> None:
    """A 412 that tells the device which version it has to re-read and merge into."""
    body = assert_problem(response, 412)
    assert response.headers.get("etag") == current_etag, dict(response.headers)
    assert body.get("current_etag") == current_etag, body


def without_safety(body: dict[str, Any]) -> dict[str, Any]:
    """A write's answer may carry a crisis notice that a plain read does not."""
    return {k: v for k, v in body.items() if k != "safety"}


def run_together(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Start the calls at the same moment, each on its own thread."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_second_device_with_a_stale_etag_gets_412_and_nothing_is_lost(
    client: TestClient, resource: Resource
) -> None:
    ana = register(client)
    url = f"{resource.path}/{resource.create(client, ana)['id']}"
    phone = client.get(url, headers=ana.headers)
    tablet = client.get(url, headers=ana.headers)
    assert phone.headers["etag"] == tablet.headers["etag"] == '"1"'

    won = patch(client, ana, url, resource.change_a, '"1"')
    assert won.status_code == 200, won.text
    assert won.headers["etag"] == '"2"'
    lost = patch(client, ana, url, resource.change_b, '"1"')
    assert_stale(lost, '"2"')

    stored = client.get(url, headers=ana.headers)
    assert stored.headers["etag"] == '"2"'
    assert without_safety(stored.json()) == without_safety(won.json())
    assert stored.json()["version"] == 2
    for field, value in resource.change_b.items():
        assert stored.json()[field] != value, f"the stale write of {field} got through"

    # The tablet re-reads, merges and writes on top of the winner's change.
    merged = patch(client, ana, url, resource.change_b, stored.headers["etag"])
    assert merged.status_code == 200, merged.text
    assert merged.headers["etag"] == '"3"'
    final = client.get(url, headers=ana.headers).json()
    assert final["version"] == 3
    for field in resource.change_a:
        assert final[field] == won.json()[field]
    for field in resource.change_b:
        assert final[field] == merged.json()[field]


def test_if_match_lists_and_star(client: TestClient) -> None:
    ana = register(client)
    url = f"/v1/entries/{create_entry(client, ana)['id']}"
    assert patch(client, ana, url, {"mood": 1}, '"7", "1"').status_code == 200
    assert patch(client, ana, url, {"mood": 2}, "*").headers["etag"] == '"3"'
    assert_stale(patch(client, ana, url, {"mood": 3}, '"1", "2"'), '"3"')
    assert_problem(client.patch(url, json={"mood": 4}, headers=ana.headers), 428)
    assert_problem(client.delete(url, headers=ana.headers), 428)
    assert client.get(url, headers=ana.headers).json()["mood"] == 2


def test_delete_with_a_stale_etag_is_refused_and_the_row_stays(client: TestClient) -> None:
    ana = register(client)
    entry = create_entry(client, ana, event="Keep me")
    url = f"/v1/entries/{entry['id']}"
    assert patch(client, ana, url, {"mood": 7}, '"1"').status_code == 200

    assert_stale(delete(client, ana, url, '"1"'), '"2"')
    kept = client.get(url, headers=ana.headers)
    assert kept.status_code == 200
    assert (kept.json()["event"], kept.json()["mood"], kept.json()["version"]) == ("Keep me", 7, 2)

    assert delete(client, ana, url, '"2"').status_code == 204
    assert client.get(url, headers=ana.headers).status_code == 404


def test_concurrent_patches_with_the_same_etag_one_wins(client: TestClient) -> None:
    """Both may pass the If-Match check; the version column still lets only one write in."""
    ana = register(client)
    for round_ in range(ROUNDS):
        entry = create_entry(client, ana, mood=5, event="Original")
        url = f"/v1/entries/{entry['id']}"
        changes = [{"mood": 2, "event": f"phone {round_}"}, {"mood": 9, "event": f"tab {round_}"}]
        responses = run_together(*(partial(patch, client, ana, url, c, '"1"') for c in changes))

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 412], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        loser = next(r for r in responses if r.status_code == 412)
        assert_problem(loser, 412)
        assert winner.headers["etag"] == '"2"'
        stored = client.get(url, headers=ana.headers)
        assert stored.headers["etag"] == '"2"'
        assert stored.json()["version"] == 2
        assert (stored.json()["mood"], stored.json()["event"]) == (
            winner.json()["mood"],
            winner.json()["event"],
        )


def test_a_device_that_loses_a_race_is_told_the_current_etag(client: TestClient) -> None:
    """The loser of a concurrent write gets the same 412 as a plainly stale one."""
    ana = register(client)
    for round_ in range(ROUNDS):
        url = f"/v1/entries/{create_entry(client, ana)['id']}"
        responses = run_together(
            partial(patch, client, ana, url, {"mood": 1, "event": f"a {round_}"}, '"1"'),
            partial(patch, client, ana, url, {"mood": 9, "event": f"b {round_}"}, '"1"'),
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        assert_stale(next(r for r in responses if r.status_code == 412), '"2"')


def test_concurrent_patch_and_delete_leave_one_consistent_outcome(client: TestClient) -> None:
    ana = register(client)
    for _ in range(ROUNDS):
        url = f"/v1/entries/{create_entry(client, ana, mood=5)['id']}"
        patched, deleted = run_together(
            partial(patch, client, ana, url, {"mood": 0}, '"1"'),
            partial(delete, client, ana, url, '"1"'),
        )
        stored = client.get(url, headers=ana.headers)
        if deleted.status_code == 204:
            # The delete won: the edit was refused (stale, or the row was already gone).
            assert patched.status_code in {404, 412}, patched.text
            assert_problem(patched, patched.status_code)
            assert stored.status_code == 404
        else:
            assert_problem(deleted, 412)
            assert patched.status_code == 200, patched.text
            assert stored.status_code == 200
            assert (stored.json()["mood"], stored.json()["version"]) == (0, 2)

"""Two devices of one account keep the same reminders through /v1/sync: what one creates,
changes or deletes the other sees, once, and a change made from a stale copy is refused."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Account, assert_problem, login, register, sync_to_end
from tests.reminders.support import create_reminder


def second_device(client: TestClient, account: Account) -> Account:
    """Another login of the same account, as a second phone would have."""
    tokens = login(client, account.email)
    return Account(
        id=account.id,
        email=account.email,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        refresh_token=tokens["refresh_token"],
    )


def synced(
    client: TestClient, device: Account, since: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The reminders and tombstones a device receives from `since` on, and its next anchor."""
    pages, anchor = sync_to_end(client, device, since)
    reminders = [row for page in pages for row in page["reminders"]]
    deleted = [row for page in pages for row in page["deleted"]]
    return reminders, deleted, anchor


def test_a_second_device_sees_what_the_first_does_to_reminders(client: TestClient) -> None:
    phone = register(client)
    tablet = second_device(client, phone)
    _, _, anchor = synced(client, tablet, None)

    diary = create_reminder(client, phone, rrule="FREQ=DAILY", starts_on="2026-12-03")
    mood = create_reminder(client, phone, kind="mood", timezone="America/Chicago")
    seen, deleted, anchor = synced(client, tablet, anchor)
    assert sorted(seen, key=lambda r: r["id"]) == sorted([diary, mood], key=lambda r: r["id"])
    assert deleted == []
    assert client.get(f"/v1/reminders/{diary['id']}", headers=tablet.headers).json() == diary

    changed = client.patch(
        f"/v1/reminders/{diary['id']}",
        json={"local_time": "21:15", "active": False},
        headers={**phone.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    seen, deleted, anchor = synced(client, tablet, anchor)
    assert seen == [changed.json()]
    assert (seen[0]["local_time"], seen[0]["active"], seen[0]["version"]) == ("21:15:00", False, 2)
    assert deleted == []

    gone = client.delete(
        f"/v1/reminders/{mood['id']}", headers={**phone.headers, "If-Match": '"1"'}
    )
    assert gone.status_code == 204
    seen, deleted, anchor = synced(client, tablet, anchor)
    assert seen == []
    assert [(t["type"], t["id"]) for t in deleted] == [("reminder", mood["id"])]

    # Nothing more to see: each change came once.
    assert synced(client, tablet, anchor)[:2] == ([], [])
    # A device that starts afresh gets the one reminder left, in its latest state.
    everything, tombstones, _ = synced(client, second_device(client, phone), None)
    assert everything == [changed.json()]
    assert [(t["type"], t["id"]) for t in tombstones] == [("reminder", mood["id"])]


def test_a_change_from_a_stale_copy_is_refused_and_loses_nothing(client: TestClient) -> None:
    phone = register(client)
    tablet = second_device(client, phone)
    reminder = create_reminder(client, phone)
    _, _, anchor = synced(client, tablet, None)
    url = f"/v1/reminders/{reminder['id']}"
    # Both devices hold version 1; the phone changes it first.
    first = client.patch(url, json={"kind": "mood"}, headers={**phone.headers, "If-Match": '"1"'})
    assert first.status_code == 200, first.text

    late = client.patch(url, json={"active": False}, headers={**tablet.headers, "If-Match": '"1"'})
    assert_problem(late, 412)
    assert late.headers["etag"] == '"2"'
    assert_problem(client.delete(url, headers={**tablet.headers, "If-Match": '"1"'}), 412)
    assert client.get(url, headers=tablet.headers).json() == first.json()

    # The tablet syncs, sees the phone's change, and makes its own on top of it.
    seen, _, anchor = synced(client, tablet, anchor)
    assert seen == [first.json()]
    merged = client.patch(
        url, json={"active": False}, headers={**tablet.headers, "If-Match": '"2"'}
    )
    assert merged.status_code == 200, merged.text
    assert (merged.json()["kind"], merged.json()["active"]) == ("mood", False)
    assert synced(client, phone, None)[0] == [merged.json()]

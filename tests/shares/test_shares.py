"""A client's shares: the one-time code, its redemption by a therapist, revocation, expiry.

Ana and Bob (clients) are shared by the module; each test registers the therapists it needs,
so every (client, therapist) pair starts unlinked.
"""

import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.shares.codes import ALPHABET
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    create_share,
    list_all,
    redeem_code,
    register,
    revoke_share,
    share_with,
)

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")  # Crockford base32


@pytest.fixture(scope="module")
def ana(app: FastAPI) -> Iterator[Account]:
    with TestClient(app) as http:
        account = register(http, name="Ana")
        create_entry(http, account, occurred_at="2026-11-20T18:30:00+00:00")
        yield account


@pytest.fixture(scope="module")
def bob(app: FastAPI) -> Iterator[Account]:
    with TestClient(app) as http:
        yield register(http, name="Bob")


def parse(instant: str) -> datetime:
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def listed(client: TestClient, account: Account, share_id: str) -> dict[str, Any]:
    (share,) = [s for s in list_all(client, account, "/v1/shares") if s["id"] == share_id]
    return share


def redeem(client: TestClient, therapist: Account, code: str) -> Any:
    return client.post("/v1/therapist/links", json={"code": code}, headers=therapist.headers)


def wrong_code(right: str) -> str:
    while True:
        guess = "".join(secrets.choice(ALPHABET) for _ in range(10))
        if guess != right.replace("-", ""):
            return f"{guess[:5]}-{guess[5:]}"


def reads_entries(client: TestClient, therapist: Account, client_id: str) -> int:
    response = client.get(f"/v1/therapist/clients/{client_id}/entries", headers=therapist.headers)
    return response.status_code


# --- creating a share ------------------------------------------------------------------------


def test_a_new_share_is_a_pending_one_time_code(client: TestClient, ana: Account) -> None:
    before = datetime.now(UTC)
    response = client.post("/v1/shares", json={"scope": "full"}, headers=ana.headers)
    assert response.status_code == 201, response.text
    share = response.json()
    assert CODE.match(share["code"]), share["code"]
    assert share["status"] == "pending"
    assert share["scope"] == "full"
    assert share["expires_at"] is None
    assert share["therapist_id"] is None
    assert share["therapist_name"] is None
    code_expires_at = parse(share["code_expires_at"])
    assert before + timedelta(hours=71) < code_expires_at
    assert code_expires_at <= parse(share["created_at"]) + timedelta(hours=72)
    # Two shares never get the same code.
    assert create_share(client, ana)["code"] != share["code"]


def test_the_code_must_be_redeemed_before_the_share_ends(client: TestClient, ana: Account) -> None:
    ends = in_seconds(3600)
    share = create_share(client, ana, "summaries", ends.isoformat())
    assert abs(parse(share["expires_at"]) - ends) < timedelta(seconds=1)
    assert parse(share["code_expires_at"]) <= parse(share["expires_at"])
    # An end beyond 72 hours leaves the code its 72 hours.
    later = create_share(client, ana, "full", in_seconds(10 * 24 * 3600).isoformat())
    code_expires_at = parse(later["code_expires_at"])
    assert code_expires_at <= parse(later["created_at"]) + timedelta(hours=72)
    assert code_expires_at > datetime.now(UTC) + timedelta(hours=71)


def test_a_share_cannot_end_in_the_past(client: TestClient, bob: Account) -> None:
    response = client.post(
        "/v1/shares",
        json={
            "scope": "full",
            "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        },
        headers=bob.headers,
    )
    assert_problem(response, 422, "body.expires_at")
    assert list_all(client, bob, "/v1/shares") == []  # Bob never gets a share


def test_a_therapist_cannot_create_a_share(client: TestClient) -> None:
    therapist = register(client, role="therapist")
    response = client.post("/v1/shares", json={"scope": "full"}, headers=therapist.headers)
    assert_problem(response, 403)


def test_the_code_is_never_shown_again(client: TestClient, ana: Account) -> None:
    share = create_share(client, ana)
    response = client.get("/v1/shares", headers=ana.headers)
    assert response.status_code == 200
    assert share["code"] not in response.text
    assert share["code"].replace("-", "") not in response.text
    items = list_all(client, ana, "/v1/shares")
    assert all("code" not in item for item in items)
    assert listed(client, ana, share["id"])["status"] == "pending"


# --- redeeming the code ----------------------------------------------------------------------


def test_redeeming_links_the_therapist(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist", name="Dr Lee")
    share = create_share(client, ana, "summaries")
    assert reads_entries(client, therapist, ana.id) == 404

    response = redeem(client, therapist, share["code"])
    assert response.status_code == 201, response.text
    linked = response.json()
    assert linked["client_id"] == ana.id
    assert linked["display_name"] == "Ana"
    assert linked["scope"] == "summaries"
    assert linked["last_entry_at"].startswith("2026-11-20T18:30:00")

    now_listed = listed(client, ana, share["id"])
    assert now_listed["status"] == "active"
    assert now_listed["therapist_id"] == therapist.id
    assert now_listed["therapist_name"] == "Dr Lee"
    assert now_listed["redeemed_at"] is not None
    clients = list_all(client, therapist, "/v1/therapist/clients")
    assert [item["client_id"] for item in clients] == [ana.id]
    summary = client.get(
        f"/v1/therapist/clients/{ana.id}/summaries/mood-by-person", headers=therapist.headers
    )
    assert summary.status_code == 200
    assert summary.json()["baseline"]["entries"] == 1


def test_a_redeemed_code_cannot_be_used_again(client: TestClient, ana: Account) -> None:
    first, second = (register(client, role="therapist") for _ in range(2))
    share = create_share(client, ana)
    redeem_code(client, first, share["code"])
    assert_problem(redeem(client, second, share["code"]), 422, "body.code")
    assert_problem(redeem(client, first, share["code"]), 422, "body.code")
    assert reads_entries(client, second, ana.id) == 404
    assert listed(client, ana, share["id"])["therapist_id"] == first.id


def test_a_wrong_code_is_refused(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    share = create_share(client, ana)
    assert_problem(redeem(client, therapist, wrong_code(share["code"])), 422, "body.code")
    assert_problem(redeem(client, therapist, "not a code"), 422, "body.code")
    assert reads_entries(client, therapist, ana.id) == 404
    assert listed(client, ana, share["id"])["status"] == "pending"


def test_the_code_is_read_without_case_or_dash(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    lower = create_share(client, ana, "summaries")
    assert redeem(client, therapist, lower["code"].lower()).status_code == 201
    assert listed(client, ana, lower["id"])["status"] == "active"
    bare = create_share(client, ana, "full")
    spaced = bare["code"].replace("-", "")
    response = redeem(client, therapist, f" {spaced[:3]} {spaced[3:]}".lower())
    assert response.status_code == 201, response.text
    assert response.json()["scope"] == "full"  # the newer share replaced the older one
    assert reads_entries(client, therapist, ana.id) == 200


def test_an_expired_code_is_refused_and_listed_as_expired(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    ends = in_seconds(1.0)
    share = create_share(client, ana, "full", ends.isoformat())
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.2)
    assert_problem(redeem(client, therapist, share["code"]), 422, "body.code")
    assert reads_entries(client, therapist, ana.id) == 404
    assert listed(client, ana, share["id"])["status"] == "expired"


def test_a_client_cannot_redeem_a_code(client: TestClient, ana: Account, bob: Account) -> None:
    share = create_share(client, ana)
    assert_problem(redeem(client, bob, share["code"]), 403)
    assert listed(client, ana, share["id"])["status"] == "pending"


def test_five_wrong_codes_lock_out_that_therapist_only(client: TestClient, ana: Account) -> None:
    guesser, other = (register(client, role="therapist") for _ in range(2))
    share = create_share(client, ana)
    for _ in range(5):
        assert_problem(redeem(client, guesser, wrong_code(share["code"])), 422, "body.code")

    response = redeem(client, guesser, share["code"])  # even the right code
    assert_problem(response, 429)
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60
    assert listed(client, ana, share["id"])["status"] == "pending"
    assert reads_entries(client, guesser, ana.id) == 404

    assert redeem(client, other, share["code"]).status_code == 201
    assert reads_entries(client, other, ana.id) == 200


# --- revoking --------------------------------------------------------------------------------


def test_revoking_ends_access_at_once(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    share = create_share(client, ana)
    redeem_code(client, therapist, share["code"])
    assert reads_entries(client, therapist, ana.id) == 200

    revoke_share(client, ana, share["id"])
    assert_problem(
        client.get(f"/v1/therapist/clients/{ana.id}/entries", headers=therapist.headers), 404
    )
    summary = client.get(
        f"/v1/therapist/clients/{ana.id}/summaries/mood-timeline", headers=therapist.headers
    )
    assert_problem(summary, 404)
    assert list_all(client, therapist, "/v1/therapist/clients") == []
    revoked = listed(client, ana, share["id"])
    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"] is not None
    # Revoking again changes nothing.
    revoke_share(client, ana, share["id"])
    assert listed(client, ana, share["id"])["revoked_at"] == revoked["revoked_at"]


def test_revoking_a_pending_share_kills_its_code(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    share = create_share(client, ana)
    revoke_share(client, ana, share["id"])
    assert_problem(redeem(client, therapist, share["code"]), 422, "body.code")
    assert listed(client, ana, share["id"])["status"] == "revoked"


def test_a_new_share_gives_access_again_after_revocation(client: TestClient, ana: Account) -> None:
    therapist = register(client, role="therapist")
    share = create_share(client, ana)
    redeem_code(client, therapist, share["code"])
    revoke_share(client, ana, share["id"])
    assert reads_entries(client, therapist, ana.id) == 404
    share_with(client, ana, therapist, "summaries")
    assert reads_entries(client, therapist, ana.id) == 403
    mood = client.get(
        f"/v1/therapist/clients/{ana.id}/summaries/mood-by-person", headers=therapist.headers
    )
    assert mood.status_code == 200


def test_another_clients_share_cannot_be_revoked(
    client: TestClient, ana: Account, bob: Account
) -> None:
    therapist = register(client, role="therapist")
    share = create_share(client, ana)
    redeem_code(client, therapist, share["code"])
    assert_problem(client.delete(f"/v1/shares/{share['id']}", headers=bob.headers), 404)
    assert listed(client, ana, share["id"])["status"] == "active"
    assert reads_entries(client, therapist, ana.id) == 200
    assert list_all(client, bob, "/v1/shares") == []


def test_a_share_listed_as_active_is_one_the_therapist_can_use(
    client: TestClient, ana: Account
) -> None:
    therapist = register(client, role="therapist")
    older = create_share(client, ana, "full")
    redeem_code(client, therapist, older["code"])
    newer = create_share(client, ana, "summaries")
    redeem_code(client, therapist, newer["code"])

    assert listed(client, ana, newer["id"])["status"] == "active"
    # Ana's list must not claim more (or less) than the therapist gets: the older `full`
    # share lists as active exactly when the therapist can still read the diary.
    older_active = listed(client, ana, older["id"])["status"] == "active"
    assert older_active == (reads_entries(client, therapist, ana.id) == 200), (
        "the older full share lists as active, but the therapist cannot read entries"
    )


def test_erasing_the_clients_account_ends_every_link(client: TestClient) -> None:
    cleo = register(client, name="Cleo")
    therapist = register(client, role="therapist")
    share_with(client, cleo, therapist, "full")
    assert reads_entries(client, therapist, cleo.id) == 200
    response = client.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=cleo.headers)
    assert response.status_code == 204, response.text
    assert reads_entries(client, therapist, cleo.id) == 404
    assert list_all(client, therapist, "/v1/therapist/clients") == []

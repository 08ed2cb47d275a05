"""Accounts, logins, access tokens, refresh rotation, logout, throttling and erasure."""

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import logins
from app.models import metadata
from tests.conftest import TEST_SECRET
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    login,
    register,
)

PUBLIC_ACCOUNT_FIELDS = {"id", "email", "role", "display_name", "timezone", "email_verified"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.org"


def register_body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": new_email(),
        "password": PASSWORD,
        "role": "client",
        "display_name": "Ana",
        "timezone": "Europe/London",
        **overrides,
    }


def token_response(client: TestClient, email: str, password: str) -> Any:
    return client.post("/v1/auth/token", data={"username": email, "password": password})


def assert_refused(client: TestClient, access_token: str) -> None:
    response = client.get("/v1/me", headers=bearer(access_token))
    assert_problem(response, 401)


def assert_accepted(client: TestClient, access_token: str) -> None:
    response = client.get("/v1/me", headers=bearer(access_token))
    assert response.status_code == 200, response.text


# --- registration -----------------------------------------------------------------------


def test_register_answers_the_public_account(client: TestClient) -> None:
    body = register_body(display_name="Ana B")
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    account = response.json()
    assert set(account) == PUBLIC_ACCOUNT_FIELDS
    uuid.UUID(account["id"])
    assert account["email"] == body["email"]
    assert account["role"] == "client"
    assert account["display_name"] == "Ana B"
    assert account["timezone"] == "Europe/London"
    assert PASSWORD not in response.text


def test_register_defaults_to_utc(client: TestClient) -> None:
    body = register_body()
    del body["timezone"]
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["timezone"] == "UTC"


def test_register_a_therapist(client: TestClient) -> None:
    body = register_body(role="therapist", display_name="Dr Lee")
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "therapist"
    tokens = login(client, body["email"])
    me = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.json() == response.json()


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(str.upper, id="upper case"),
        pytest.param(lambda e: e.capitalize(), id="capitalised"),
        pytest.param(lambda e: e, id="identical"),
    ],
)
def test_register_duplicate_email_is_a_conflict(client: TestClient, variant: Any) -> None:
    first = register_body()
    assert client.post("/v1/auth/register", json=first).status_code == 201
    second = register_body(email=variant(first["email"]), display_name="Impostor")
    response = client.post("/v1/auth/register", json=second)
    assert_problem(response, 409)
    # The first account still logs in with its own password.
    assert login(client, first["email"])["access_token"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"timezone": "Mars/Olympus_Mons"}, "body.timezone", id="unknown time zone"),
        pytest.param({"timezone": "+02:00"}, "body.timezone", id="offset is not a zone"),
        pytest.param({"role": "admin"}, "body.role", id="unknown role"),
        pytest.param({"email": "not-an-email"}, "body.email", id="invalid email"),
        pytest.param({"display_name": ""}, "body.display_name", id="empty display name"),
        pytest.param({"display_name": "d" * 81}, "body.display_name", id="display name 81"),
        pytest.param({"id": str(uuid.uuid4())}, "body.id", id="id sent"),
        pytest.param({"is_admin": True}, "body.is_admin", id="unknown field"),
    ],
)
def test_register_validation(client: TestClient, overrides: dict[str, Any], field: str) -> None:
    body = register_body(**overrides)
    response = client.post("/v1/auth/register", json=body)
    assert_problem(response, 422, field)
    # Nothing was created: there is no account to log in to.
    assert_problem(token_response(client, body["email"], body["password"]), 401)


def test_register_without_password_is_422(client: TestClient) -> None:
    body = register_body()
    del body["password"]
    assert_problem(client.post("/v1/auth/register", json=body), 422, "body.password")


# --- login --------------------------------------------------------------------------------


def test_login_answers_a_bearer_token_pair(client: TestClient, app: FastAPI) -> None:
    ana = register(client)
    response = token_response(client, ana.email.upper(), PASSWORD)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == app.state.settings.access_token_minutes * 60
    # The token itself lives exactly as long as `expires_in` says.
    claims = claims_of(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == tokens["expires_in"]
    assert tokens["refresh_token"] != tokens["access_token"]
    assert_accepted(client, tokens["access_token"])


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient) -> None:
    ana = register(client)
    wrong = token_response(client, ana.email, "not the password at all")
    unknown = token_response(client, new_email(), "not the password at all")
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert wrong.json() == unknown.json()
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


def test_login_without_form_fields_is_422(client: TestClient) -> None:
    assert_problem(client.post("/v1/auth/token", data={"username": "x@example.org"}), 422)


# --- access tokens -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def holder(app: FastAPI) -> Iterator[Account]:
    """An account whose login the token tests below copy claims from; none of them change it."""
    with TestClient(app) as client:
        yield register(client, name="Holder")


def claims_of(access_token: str) -> dict[str, Any]:
    return dict(jwt.decode(access_token, options={"verify_signature": False}))


def forge(claims: dict[str, Any], key: str = TEST_SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def valid_claims(account: Account) -> dict[str, Any]:
    """The claims of the account's real access token, with a fresh iat/exp."""
    claims = claims_of(account.headers["Authorization"].removeprefix("Bearer "))
    now = datetime.now(UTC)
    return {
        "sub": claims["sub"],
        "sid": claims["sid"],
        "role": claims["role"],
        "aud": "ipt-diary",
        "iss": "ipt-diary",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }


def test_a_forged_token_with_the_real_key_is_accepted(client: TestClient, holder: Account) -> None:
    """Control for the refusals below: the forging itself produces a working token."""
    assert_accepted(client, forge(valid_claims(holder)))


def test_expired_access_token_is_refused(client: TestClient, holder: Account) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {**valid_claims(holder), "iat": past - timedelta(minutes=15), "exp": past}
    assert_refused(client, forge(claims))


def test_a_token_accepted_before_its_expiry_is_refused_from_then_on(
    client: TestClient, holder: Account
) -> None:
    """Checked tokens are remembered (app.core.security.verified_claims): expiry must still
    count on every use, for the account and the diary routes alike."""
    expires = int(datetime.now(UTC).timestamp()) + 2
    token = forge({**valid_claims(holder), "exp": expires})
    assert_accepted(client, token)
    assert client.get("/v1/entries", headers=bearer(token)).status_code == 200
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert_refused(client, token)
    response = client.get("/v1/entries", headers=bearer(token))
    assert_problem(response, 401)
    assert "expired" in response.json()["detail"]


def test_token_without_exp_is_refused(client: TestClient, holder: Account) -> None:
    claims = valid_claims(holder)
    del claims["exp"]
    assert_refused(client, forge(claims))


def test_token_signed_with_another_key_is_refused(client: TestClient, holder: Account) -> None:
    assert_refused(
        client, forge(valid_claims(holder), key="another-secret-key-that-is-long-enough-42")
    )


def test_unsigned_alg_none_token_is_refused(client: TestClient, holder: Account) -> None:
    claims = valid_claims(holder)
    claims["iat"] = int(claims["iat"].timestamp())
    claims["exp"] = int(claims["exp"].timestamp())

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    assert_refused(client, token)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: {**c, "aud": "someone-else"}, id="wrong audience"),
        pytest.param(lambda c: {**c, "iss": "someone-else"}, id="wrong issuer"),
        pytest.param(lambda c: {**c, "sid": str(uuid.uuid4())}, id="unknown login"),
        pytest.param(lambda c: {**c, "sub": str(uuid.uuid4())}, id="unknown account"),
        pytest.param(lambda c: {k: v for k, v in c.items() if k != "sid"}, id="no sid"),
    ],
)
def test_token_with_wrong_claims_is_refused(
    client: TestClient, holder: Account, tamper: Any
) -> None:
    assert_refused(client, forge(tamper(valid_claims(holder))))


@pytest.mark.parametrize("value", ["Bearer not-a-jwt", "Bearer ", "Basic YWxhZGRpbjpvcGVu"])
def test_malformed_authorization_is_refused(client: TestClient, value: str) -> None:
    assert_problem(client.get("/v1/me", headers={"Authorization": value}), 401)


# --- refresh rotation and logout -------------------------------------------------------------


def refresh(client: TestClient, refresh_token: str) -> Any:
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_refresh_rotates_the_pair(client: TestClient, app: FastAPI) -> None:
    ana = register(client)
    first = login(client, ana.email)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["token_type"] == "bearer"
    assert second["expires_in"] == app.state.settings.access_token_minutes * 60
    assert second["refresh_token"] != first["refresh_token"]
    assert_accepted(client, second["access_token"])
    # The new refresh token is good for another turn.
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    assert_accepted(client, third.json()["access_token"])


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client: TestClient) -> None:
    ana = register(client)
    first = login(client, ana.email)
    second = refresh(client, first["refresh_token"]).json()

    assert_problem(refresh(client, first["refresh_token"]), 401)
    # The thief's (or the app's) newer token of that login is refused too ...
    assert_problem(refresh(client, second["refresh_token"]), 401)
    # ... and so is every access token of that login.
    assert_refused(client, second["access_token"])
    assert_refused(client, first["access_token"])
    # Another login of the same account is a different family and keeps working.
    assert_accepted(client, ana.headers["Authorization"].removeprefix("Bearer "))
    assert refresh(client, ana.refresh_token).status_code == 200


def test_a_refresh_token_expires_exactly_at_the_end_of_its_lifetime(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = register(client)
    issued = datetime.now(UTC).replace(microsecond=0)
    lifetime = timedelta(days=app.state.settings.refresh_token_days)
    monkeypatch.setattr(logins, "utcnow", lambda: issued)
    used_in_time, used_too_late = login(client, ana.email), login(client, ana.email)

    monkeypatch.setattr(logins, "utcnow", lambda: issued + lifetime - timedelta(microseconds=1))
    assert refresh(client, used_in_time["refresh_token"]).status_code == 200
    monkeypatch.setattr(logins, "utcnow", lambda: issued + lifetime)
    expired = refresh(client, used_too_late["refresh_token"])
    assert_problem(expired, 401)
    assert expired.json()["detail"] == "The refresh token has expired"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not a token", id="garbage"),
        pytest.param(base64.urlsafe_b64encode(bytes(64)).decode(), id="well formed, unknown"),
        pytest.param("", id="empty"),
    ],
)
def test_refresh_with_an_unknown_token_is_refused(client: TestClient, token: str) -> None:
    assert_problem(refresh(client, token), 401)


def test_refresh_with_a_tampered_secret_is_refused(client: TestClient) -> None:
    ana = register(client)
    raw = bytearray(
        base64.urlsafe_b64decode(ana.refresh_token + "=" * (-len(ana.refresh_token) % 4))
    )
    raw[-1] ^= 0xFF
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert_problem(refresh(client, tampered), 401)
    # A wrong guess is not a reuse: the real token still works.
    assert refresh(client, ana.refresh_token).status_code == 200


def test_refresh_body_is_validated(client: TestClient) -> None:
    assert_problem(client.post("/v1/auth/refresh", json={}), 422, "body.refresh_token")


def test_logout_revokes_that_login(client: TestClient) -> None:
    ana = register(client)
    session = login(client, ana.email)
    response = client.post("/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(refresh(client, session["refresh_token"]), 401)
    assert_refused(client, session["access_token"])
    # The account's other login is untouched.
    assert_accepted(client, ana.headers["Authorization"].removeprefix("Bearer "))


def test_logout_after_refresh_revokes_the_rotated_tokens(client: TestClient) -> None:
    ana = register(client)
    first = login(client, ana.email)
    second = refresh(client, first["refresh_token"]).json()
    assert (
        client.post("/v1/auth/logout", json={"refresh_token": second["refresh_token"]}).status_code
        == 204
    )
    assert_refused(client, second["access_token"])
    assert_problem(refresh(client, second["refresh_token"]), 401)


def test_logout_with_an_unknown_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/logout", json={"refresh_token": base64.urlsafe_b64encode(bytes(64)).decode()}
    )
    assert_problem(response, 401)


# --- throttling ----------------------------------------------------------------------------


def first_failure(app: FastAPI, account: Account) -> datetime:
    failures = metadata.tables["login_failures"]
    with app.state.engine.connect() as connection:
        at: datetime = connection.execute(
            select(failures.c.failed_at)
            .where(failures.c.owner_id == uuid.UUID(account.id))
            .order_by(failures.c.failed_at)
            .limit(1)
        ).scalar_one()
    return at


def test_ten_failed_logins_throttle_the_account(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = register(client)
    bob = register(client, name="Bob")
    for _ in range(10):
        assert_problem(token_response(client, ana.email, "wrong password!"), 401)

    # A minute after the first failure, the window has 14 minutes left (and a second).
    window = timedelta(minutes=app.state.settings.login_window_minutes)
    minute_later = first_failure(app, ana) + timedelta(minutes=1)
    monkeypatch.setattr(logins, "utcnow", lambda: minute_later)
    right = token_response(client, ana.email, PASSWORD)
    assert_problem(right, 429)
    assert int(right.headers["retry-after"]) == (window - timedelta(minutes=1)).seconds + 1
    assert "access_token" not in right.json()
    assert_problem(token_response(client, ana.email, "wrong password!"), 429)

    # Other accounts are unaffected, and so are tokens Ana already holds.
    assert login(client, bob.email)["access_token"]
    assert client.get("/v1/me", headers=ana.headers).status_code == 200


def test_the_login_throttle_ends_exactly_when_its_window_does(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = register(client)
    for _ in range(10):
        assert_problem(token_response(client, ana.email, "wrong password!"), 401)
    window_ends = first_failure(app, ana) + timedelta(
        minutes=app.state.settings.login_window_minutes
    )
    # The first failure still counts at the window's last instant ...
    monkeypatch.setattr(logins, "utcnow", lambda: window_ends)
    last_instant = token_response(client, ana.email, PASSWORD)
    assert_problem(last_instant, 429)
    assert last_instant.headers["retry-after"] == "1"
    # ... and not a microsecond later: nine failures are not enough.
    monkeypatch.setattr(logins, "utcnow", lambda: window_ends + timedelta(microseconds=1))
    assert token_response(client, ana.email, PASSWORD).status_code == 200


def test_nine_failed_logins_do_not_throttle(client: TestClient) -> None:
    ana = register(client)
    for _ in range(9):
        assert_problem(token_response(client, ana.email, "wrong password!"), 401)
    assert token_response(client, ana.email, PASSWORD).status_code == 200


# --- /v1/me --------------------------------------------------------------------------------


def test_me_answers_the_public_account(client: TestClient) -> None:
    ana = register(client, timezone="Europe/Berlin", name="Ana")
    response = client.get("/v1/me", headers=ana.headers)
    assert response.status_code == 200
    assert response.json() == ana.profile
    assert set(response.json()) == PUBLIC_ACCOUNT_FIELDS


def test_patch_me_changes_name_and_time_zone(client: TestClient) -> None:
    ana = register(client)
    response = client.patch(
        "/v1/me",
        json={"display_name": "Ana María", "timezone": "America/Mexico_City"},
        headers=ana.headers,
    )
    assert response.status_code == 200, response.text
    expected = {**ana.profile, "display_name": "Ana María", "timezone": "America/Mexico_City"}
    assert response.json() == expected
    assert client.get("/v1/me", headers=ana.headers).json() == expected

    only_name = client.patch("/v1/me", json={"display_name": "Ana"}, headers=ana.headers)
    assert only_name.json() == {**expected, "display_name": "Ana"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"timezone": "Atlantis/Capital"}, "body.timezone", id="unknown time zone"),
        pytest.param({"timezone": ""}, "body.timezone", id="empty time zone"),
        pytest.param({"display_name": ""}, "body.display_name", id="empty name"),
        pytest.param({"display_name": "n" * 81}, "body.display_name", id="name 81 chars"),
        pytest.param({"role": "therapist"}, "body.role", id="role"),
        pytest.param({"email": "new@example.org"}, "body.email", id="email"),
        pytest.param({"id": str(uuid.uuid4())}, "body.id", id="id"),
    ],
)
def test_patch_me_validation(
    client: TestClient, holder: Account, changes: dict[str, Any], field: str
) -> None:
    ana = holder
    assert_problem(client.patch("/v1/me", json=changes, headers=ana.headers), 422, field)
    assert client.get("/v1/me", headers=ana.headers).json() == ana.profile


# --- erasure -------------------------------------------------------------------------------


def delete_me(client: TestClient, account: Account, password: str) -> Any:
    return client.request("DELETE", "/v1/me", json={"password": password}, headers=account.headers)


def test_delete_me_with_the_wrong_password_is_refused(client: TestClient) -> None:
    ana = register(client)
    create_entry(client, ana)
    assert_problem(delete_me(client, ana, "not my password"), 403)
    assert client.get("/v1/me", headers=ana.headers).status_code == 200
    assert len(client.get("/v1/entries", headers=ana.headers).json()["items"]) == 1


def test_delete_me_without_a_password_is_422(client: TestClient) -> None:
    ana = register(client)
    response = client.request("DELETE", "/v1/me", json={}, headers=ana.headers)
    assert_problem(response, 422, "body.password")
    assert client.get("/v1/me", headers=ana.headers).status_code == 200


def test_delete_me_erases_the_account_and_refuses_its_tokens(client: TestClient) -> None:
    ana = register(client)
    other_login = login(client, ana.email)
    create_entry(client, ana)

    response = delete_me(client, ana, PASSWORD)
    assert response.status_code == 204
    assert response.content == b""

    assert_problem(client.get("/v1/me", headers=ana.headers), 401)
    assert_problem(client.get("/v1/entries", headers=ana.headers), 401)
    assert_refused(client, other_login["access_token"])
    assert_problem(refresh(client, ana.refresh_token), 401)
    assert_problem(refresh(client, other_login["refresh_token"]), 401)
    assert_problem(token_response(client, ana.email, PASSWORD), 401)

    # The email is free again, and the new account starts with an empty diary.
    again = register_body(email=ana.email)
    assert client.post("/v1/auth/register", json=again).status_code == 201
    tokens = login(client, ana.email)
    entries = client.get("/v1/entries", headers=bearer(tokens["access_token"]))
    assert entries.json() == {"items": [], "next_cursor": None}

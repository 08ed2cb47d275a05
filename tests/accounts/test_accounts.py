"""Changing a password, verifying an address, and invited therapists (DESIGN §10)."""

import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.core.settings import get_settings
from tests.accounts.conftest import AppFactory, SmtpServer, client_for, code_in
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, login, register

NEW_PASSWORD = "a brand new passphrase 42"


def test_a_password_change_revokes_every_other_login(mail_client: TestClient) -> None:
    ana = register(mail_client)
    other = login(mail_client, ana.email)
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}

    wrong = mail_client.post(
        "/v1/me/password",
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert wrong.status_code == 403
    assert mail_client.get("/v1/me", headers=other_headers).status_code == 200

    changed = mail_client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert changed.status_code == 204

    assert mail_client.get("/v1/me", headers=ana.headers).status_code == 200  # the caller's
    assert mail_client.get("/v1/me", headers=other_headers).status_code == 401
    refresh = mail_client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    kept = mail_client.post("/v1/auth/refresh", json={"refresh_token": ana.refresh_token})
    assert kept.status_code == 200
    token = mail_client.post("/v1/auth/token", data={"username": ana.email, "password": PASSWORD})
    assert token.status_code == 401
    login(mail_client, ana.email, NEW_PASSWORD)


def test_a_new_account_verifies_its_address_with_the_mailed_code(
    mail_client: TestClient, smtp_server: SmtpServer
) -> None:
    ana = register(mail_client)
    assert ana.profile["email_verified"] is False
    assert mail_client.get("/v1/me", headers=ana.headers).json()["email_verified"] is False
    (mail,) = smtp_server.inbox.wait_for(ana.email)
    code = code_in(mail)
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    assert f"ipt-diary://verify-email?code={code}" in html.get_content()

    wrong = mail_client.post(
        "/v1/auth/verify-email", json={"code": "00000-00000"}, headers=ana.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.code"
    unauthenticated = mail_client.post("/v1/auth/verify-email", json={"code": code})
    assert unauthenticated.status_code == 401

    verified = mail_client.post("/v1/auth/verify-email", json={"code": code}, headers=ana.headers)
    assert verified.status_code == 204
    assert mail_client.get("/v1/me", headers=ana.headers).json()["email_verified"] is True
    again = mail_client.post("/v1/auth/verify-email", json={"code": code}, headers=ana.headers)
    assert again.status_code == 422


def test_another_accounts_code_does_not_verify(
    mail_client: TestClient, smtp_server: SmtpServer
) -> None:
    ana, ben = register(mail_client), register(mail_client)
    code = code_in(smtp_server.inbox.wait_for(ana.email)[0])
    refused = mail_client.post("/v1/auth/verify-email", json={"code": code}, headers=ben.headers)
    assert refused.status_code == 422


@pytest.fixture
def invite(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> object:
    """`python -m app.cli invite-therapist EMAIL`, on the test's database: its code."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)

    def make(email: str) -> str:
        get_settings.cache_clear()
        try:
            assert cli.main(["invite-therapist", email]) == 0
        finally:
            get_settings.cache_clear()
        return capsys.readouterr().out.strip()

    return make


def test_invite_mode_admits_only_invited_therapists(
    make_app: AppFactory, invite: object, tmp_path: Path
) -> None:
    email = f"therapist-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD, "role": "therapist", "display_name": "Dr T"}
    with client_for(make_app(therapist_signup="invite", mail_dir=tmp_path)) as client:
        assert client.post("/v1/auth/register", json=body).status_code == 403

        code = invite(email.upper())  # type: ignore[operator]
        other = f"therapist-{uuid.uuid4().hex[:10]}@example.org"
        for_other = client.post(
            "/v1/auth/register", json=body | {"email": other, "invitation_code": code}
        )
        assert for_other.status_code == 403  # bound to the invited address
        wrong = client.post("/v1/auth/register", json=body | {"invitation_code": "00000-00000"})
        assert wrong.status_code == 403
        assert wrong.headers["content-type"] == "application/problem+json"

        created = client.post("/v1/auth/register", json=body | {"invitation_code": code})
        assert created.status_code == 201, created.text
        assert created.json()["role"] == "therapist"

        reused = body | {"email": other, "invitation_code": code}
        assert client.post("/v1/auth/register", json=reused).status_code == 403
        # Clients need no invitation.
        client_body = body | {"email": f"client-{uuid.uuid4().hex[:10]}@example.org"}
        assert (
            client.post("/v1/auth/register", json=client_body | {"role": "client"}).status_code
            == 201
        )


def test_open_mode_needs_no_invitation(make_app: AppFactory, tmp_path: Path) -> None:
    email = f"therapist-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD, "role": "therapist", "display_name": "Dr T"}
    with client_for(make_app(mail_dir=tmp_path)) as client:
        assert client.post("/v1/auth/register", json=body).status_code == 201


def test_a_lost_verification_code_can_be_mailed_again_a_few_times(
    mail_client: TestClient, smtp_server: SmtpServer
) -> None:
    ana = register(mail_client)
    first = code_in(smtp_server.inbox.wait_for(ana.email)[0])
    resend = "/v1/auth/verify-email/resend"
    assert mail_client.post(resend).status_code == 401

    sent = mail_client.post(resend, headers=ana.headers)
    assert (sent.status_code, sent.content) == (202, b"")
    second = code_in(smtp_server.inbox.wait_for(ana.email, count=2)[1])
    assert second != first
    for _ in range(2):
        assert mail_client.post(resend, headers=ana.headers).status_code == 202
    before = time.time()
    throttled = mail_client.post(resend, headers=ana.headers)
    after = time.time()
    assert throttled.status_code == 429
    # Until the end of the fixed 15-minute window the request fell in, rounded up.
    ends = {(moment // 900 + 1) * 900 for moment in (before, after)}
    expected = {
        seconds
        for end in ends
        for seconds in range(int(end - after) + 1, int(end - before) + 2)
        if seconds > 0
    }
    assert int(throttled.headers["retry-after"]) in expected
    assert len(smtp_server.inbox.wait_for(ana.email, count=4)) == 4
    time.sleep(0.5)
    assert len(smtp_server.inbox.to(ana.email)) == 4  # none for the refused request

    verified = mail_client.post("/v1/auth/verify-email", json={"code": second}, headers=ana.headers)
    assert verified.status_code == 204
    done = mail_client.post(resend, headers=ana.headers)
    assert done.status_code == 409
    assert done.headers["content-type"].startswith("application/problem+json")

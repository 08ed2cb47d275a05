"""Password reset by mail, end to end through a real SMTP server (DESIGN §10)."""

import uuid

from fastapi.testclient import TestClient

from tests.accounts.conftest import SmtpServer, code_in
from tests.factories import PASSWORD, register

NEW_PASSWORD = "a brand new passphrase 42"


def _token(client: TestClient, email: str, password: str) -> int:
    return client.post("/v1/auth/token", data={"username": email, "password": password}).status_code


def test_reset_end_to_end(mail_client: TestClient, smtp_server: SmtpServer) -> None:
    ana = register(mail_client)

    answer = mail_client.post("/v1/auth/password-reset", json={"email": ana.email.upper()})
    assert answer.status_code == 202
    assert answer.content == b""
    (mail,) = [m for m in smtp_server.inbox.wait_for(ana.email, 2) if "reset" in m["Subject"]]
    code = code_in(mail)
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    assert f"ipt-diary://reset?code={code}" in html.get_content()

    wrong = mail_client.post(
        "/v1/auth/password-reset/confirm",
        json={"email": ana.email, "code": "00000-00000", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.code"
    assert _token(mail_client, ana.email, PASSWORD) == 200  # nothing changed yet

    confirmed = mail_client.post(
        "/v1/auth/password-reset/confirm",
        json={"email": ana.email, "code": code.lower(), "new_password": NEW_PASSWORD},
    )
    assert confirmed.status_code == 204

    assert _token(mail_client, ana.email, PASSWORD) == 401
    assert _token(mail_client, ana.email, NEW_PASSWORD) == 200
    assert (
        mail_client.post("/v1/auth/refresh", json={"refresh_token": ana.refresh_token}).status_code
        == 401
    )
    assert mail_client.get("/v1/me", headers=ana.headers).status_code == 401

    again = mail_client.post(
        "/v1/auth/password-reset/confirm",
        json={"email": ana.email, "code": code, "new_password": "yet another passphrase"},
    )
    assert again.status_code == 422
    assert _token(mail_client, ana.email, NEW_PASSWORD) == 200


def test_a_code_is_refused_for_another_account(
    mail_client: TestClient, smtp_server: SmtpServer
) -> None:
    ana, ben = register(mail_client), register(mail_client)
    mail_client.post("/v1/auth/password-reset", json={"email": ana.email})
    code = code_in(smtp_server.inbox.wait_for(ana.email, 2)[-1])
    refused = mail_client.post(
        "/v1/auth/password-reset/confirm",
        json={"email": ben.email, "code": code, "new_password": NEW_PASSWORD},
    )
    assert refused.status_code == 422
    assert _token(mail_client, ben.email, PASSWORD) == 200


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    mail_client: TestClient, smtp_server: SmtpServer
) -> None:
    ana = register(mail_client)
    smtp_server.inbox.wait_for(ana.email)  # the verification mail is out of the way
    unknown = f"nobody-{uuid.uuid4().hex[:10]}@example.org"

    answers = [
        mail_client.post("/v1/auth/password-reset", json={"email": email})
        for email in (unknown, ana.email)
    ]

    def comparable(headers: dict[str, str]) -> dict[str, str]:
        return {name: value for name, value in headers.items() if name != "x-request-id"}

    first, second = answers
    assert first.status_code == second.status_code == 202
    assert first.content == second.content
    assert comparable(dict(first.headers)) == comparable(dict(second.headers))
    smtp_server.inbox.wait_for(ana.email, 2)
    assert smtp_server.inbox.to(unknown) == []


def test_reset_requests_are_throttled_per_address(mail_client: TestClient) -> None:
    email = f"someone-{uuid.uuid4().hex[:10]}@example.org"
    statuses = [
        mail_client.post("/v1/auth/password-reset", json={"email": email}).status_code
        for _ in range(6)
    ]
    assert statuses == [202] * 5 + [429]
    throttled = mail_client.post("/v1/auth/password-reset", json={"email": email})
    assert int(throttled.headers["retry-after"]) >= 1
    other = f"other-{uuid.uuid4().hex[:10]}@example.org"
    assert mail_client.post("/v1/auth/password-reset", json={"email": other}).status_code == 202


def test_confirm_attempts_are_throttled_per_address(mail_client: TestClient) -> None:
    ana = register(mail_client)
    body = {"email": ana.email, "code": "00000-00000", "new_password": NEW_PASSWORD}
    statuses = [
        mail_client.post("/v1/auth/password-reset/confirm", json=body).status_code
        for _ in range(11)
    ]
    assert statuses == [422] * 10 + [429]

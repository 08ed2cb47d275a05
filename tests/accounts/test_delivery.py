"""The outbox: mail survives a mail server that is down, two instances send each message
once, development writes files, and no address or code reaches logs or metrics."""

import io
import logging
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import col

from app.core.observability import JsonFormatter
from app.models.mail import OutboxMessage
from tests.accounts.conftest import AppFactory, SmtpServer, client_for, code_in, free_port
from tests.factories import register


def _waiting_for(client: TestClient, address: str) -> int:
    """Messages to `address` still in the outbox."""
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        waiting = select(func.count()).where(col(OutboxMessage.recipient) == address)
        return int(connection.execute(waiting).scalar_one())


def test_mail_sent_while_the_server_is_down_arrives_once_it_is_up(
    make_app: AppFactory,
) -> None:
    server = SmtpServer(port=free_port())  # nothing listens there yet
    with client_for(make_app(smtp_url=server.url)) as client:
        ana = register(client)  # answered at once: the mail waits in the outbox
        time.sleep(1.5)  # the first tries fail
        assert server.inbox.to(ana.email) == []
        server.start()
        try:
            server.inbox.wait_for(ana.email, timeout=20)
            time.sleep(2)  # time for a second delivery, if there were to be one
            assert len(server.inbox.to(ana.email)) == 1
        finally:
            server.stop()


def test_two_instances_sharing_one_outbox_send_each_message_once(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    first = client_for(make_app(smtp_url=smtp_server.url))
    second = client_for(make_app(smtp_url=smtp_server.url))
    with first, second:
        # Each commit wakes both senders: they race for every message.
        accounts = [register(client) for _ in range(6) for client in (first, second)]
        for account in accounts:
            smtp_server.inbox.wait_for(account.email)
        time.sleep(1.5)
        # (Only these: mail an earlier test left in the shared outbox may arrive here too.)
        for account in accounts:
            assert len(smtp_server.inbox.to(account.email)) == 1


def test_without_a_mail_server_messages_are_files(make_app: AppFactory, tmp_path: Path) -> None:
    with client_for(make_app(mail_dir=tmp_path / "mail")) as client:
        ana = register(client)
        deadline = time.monotonic() + 15
        mails: list[EmailMessage] = []
        while not mails and time.monotonic() < deadline:
            time.sleep(0.05)
            # (Mail an earlier test left in the shared outbox may be written here too.)
            for path in (tmp_path / "mail").glob("*.eml"):
                parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
                if isinstance(parsed, EmailMessage) and parsed["To"] == ana.email:
                    mails.append(parsed)
        assert len(mails) == 1
        (message,) = mails
        assert message.get_content_type() == "multipart/alternative"
        code = code_in(message)
        verified = client.post("/v1/auth/verify-email", json={"code": code}, headers=ana.headers)
        assert verified.status_code == 204
        assert list((tmp_path / "mail").glob("*.partial")) == []
        assert _waiting_for(client, ana.email) == 0


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """Everything the app's loggers write: the access log and the mail sender's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_no_address_or_code_in_logs_or_metrics(make_app: AppFactory, app_log: io.StringIO) -> None:
    server = SmtpServer(port=free_port())  # down first: the failure is logged too
    with client_for(make_app(smtp_url=server.url)) as client:
        ana = register(client)
        client.post("/v1/auth/password-reset", json={"email": ana.email})
        time.sleep(1.2)
        server.start()
        try:
            codes = [code_in(mail) for mail in server.inbox.wait_for(ana.email, 2, timeout=20)]
        finally:
            server.stop()
        client.post("/v1/auth/verify-email", json={"code": codes[0]}, headers=ana.headers)
        metrics = client.get("/metrics").text

    logged = app_log.getvalue()
    assert '"message":"mail not sent"' in logged
    assert '"message":"mail sent"' in logged
    assert '"route":"/v1/auth/password-reset"' in logged
    for text in (logged, metrics):
        assert ana.email not in text
        assert ana.email.split("@")[0] not in text
        for code in codes:
            assert code not in text
            assert code.replace("-", "") not in text

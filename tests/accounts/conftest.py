"""A real SMTP server (aiosmtpd) on this machine, and apps that send their mail to it."""

import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings

CODE = re.compile(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b")


@dataclass
class Inbox:
    """What the test SMTP server received: (recipients, message) per DATA."""

    received: list[tuple[tuple[str, ...], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append((tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [
                message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
                for recipients, content in self.received
                if address in recipients
            ]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.to(address)
            if len(messages) >= count:
                return messages
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {address} did not arrive within {timeout} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(database_url: str) -> Iterator[AppFactory]:
    """Apps of the test's own on the backend's database, with settings overridden."""
    made: list[FastAPI] = []

    def make(**overrides: object) -> FastAPI:
        application = create_app(make_settings(database_url, **overrides))
        made.append(application)
        return application

    yield make
    for application in made:
        application.state.engine.dispose()


def client_for(application: FastAPI) -> TestClient:
    """A client from an address of its own: the per-client throttles count each test apart."""
    address = f"127.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return TestClient(application, raise_server_exceptions=False, client=(address, 50000))


@pytest.fixture
def mail_client(make_app: AppFactory, smtp_server: SmtpServer) -> Iterator[TestClient]:
    with client_for(make_app(smtp_url=smtp_server.url)) as test_client:
        yield test_client


def code_in(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = CODE.search(text.get_content())
    assert found is not None
    return found.group(0)

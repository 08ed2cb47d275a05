"""Where a claimed message goes: an SMTP server (SMTP_URL), or without one an .eml file per
message under MAIL_DIR. Both are blocking: the sender calls them from a worker thread."""

import os
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from app.core.settings import Settings
from app.mail.compose import envelope_sender

SMTP_TIMEOUT_SECONDS = 10.0

Deliver = Callable[[str, str, bytes], None]  # (name for a file, recipient, message)


class TransportError(Exception):
    """A message was not delivered; the sender tries again later."""


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str, sender: str) -> "SmtpTransport":
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )

    @contextmanager
    def connection(self) -> Iterator[Deliver]:
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(type(exc).__name__) from exc
        try:

            def deliver(_name: str, recipient: str, message: bytes) -> None:
                try:
                    smtp.sendmail(self.sender, [recipient], message)
                except (OSError, smtplib.SMTPException) as exc:
                    raise TransportError(type(exc).__name__) from exc

            yield deliver
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if not self.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


@dataclass(frozen=True)
class FileTransport:
    """Development without a mail server: each message is a file a mail client can open."""

    directory: Path

    @contextmanager
    def connection(self) -> Iterator[Deliver]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(type(exc).__name__) from exc

        def deliver(name: str, _recipient: str, message: bytes) -> None:
            target = self.directory / f"{name}.eml"
            partial = target.with_suffix(".eml.partial")
            try:
                partial.write_bytes(message)
                os.replace(partial, target)  # a reader never sees half a message
            except OSError as exc:
                raise TransportError(type(exc).__name__) from exc

        yield deliver


Transport = SmtpTransport | FileTransport


def transport_for(settings: Settings) -> Transport:
    url = settings.smtp_url.get_secret_value()
    if not url:
        return FileTransport(settings.mail_dir)
    return SmtpTransport.from_url(url, envelope_sender(settings))

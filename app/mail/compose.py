"""A mail from its templates: `<name>.txt` and `<name>.html`, one multipart/alternative
message, as the bytes the outbox keeps and the transport sends unchanged."""

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.settings import Settings

_TEMPLATES = Path(__file__).parent / "templates"
# Autoescaped by the name's last extension: the .html part is, the .txt part is not.
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class MailKind(StrEnum):
    password_reset = "password_reset"  # noqa: S105 - a name, not a secret
    email_verification = "email_verification"


SUBJECTS = {
    MailKind.password_reset: "Your IPT Diary password reset code",
    MailKind.email_verification: "Confirm your email address for IPT Diary",
}


def envelope_sender(settings: Settings) -> str:
    """The bare address of MAIL_FROM (which may carry a display name)."""
    return parseaddr(settings.mail_from)[1]


def compose(kind: MailKind, recipient: str, settings: Settings, **context: Any) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = SUBJECTS[kind]
    message["Date"] = formatdate(usegmt=True)
    domain = envelope_sender(settings).rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # no auto-replies to a code
    message.set_content(_ENVIRONMENT.get_template(f"{kind}.txt").render(context))
    message.add_alternative(
        _ENVIRONMENT.get_template(f"{kind}.html").render(context), subtype="html"
    )
    return message.as_bytes()

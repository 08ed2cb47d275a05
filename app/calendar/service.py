"""The calendar feed's secret, and what the feed shows: the account's therapy sessions (their
number and time, never their notes) and its active reminders."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import true, update
from sqlmodel import Session, col, select

from app.calendar import tokens
from app.core.errors import NotFound
from app.core.scoping import OwnerScope
from app.core.settings import Settings
from app.models.account import User
from app.models.reminders import Reminder
from app.models.therapy import TherapySession


class SessionTime(NamedTuple):
    id: uuid.UUID
    number: int
    held_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedContent:
    owner_id: uuid.UUID
    sessions: list[SessionTime]
    reminders: list[Reminder]


def issue_token(session: Session, scope: OwnerScope, settings: Settings) -> str:
    """A new token for the account's feed; the one before stops working."""
    token = tokens.new_token()
    session.exec(
        update(User)
        .where(col(User.id) == scope.owner_id)
        .values(calendar_token_hash=tokens.token_hash(token, settings))
    )
    return token


def content(session: Session, token: str, settings: Settings) -> FeedContent:
    digest = tokens.token_hash(token, settings)
    owner_id = (
        None
        if digest is None
        else session.exec(select(User.id).where(col(User.calendar_token_hash) == digest)).first()
    )
    if owner_id is None:
        # The same answer for a token never issued, replaced or malformed.
        raise NotFound("No calendar feed at this address")
    scope = OwnerScope(owner_id=owner_id)
    # The columns a session's event shows, and no others: its notes are never even read.
    sessions = session.exec(
        select(
            TherapySession.id,
            TherapySession.number,
            TherapySession.held_at,
            TherapySession.updated_at,
        )
        .where(*scope.conditions(TherapySession))
        .order_by(col(TherapySession.held_at), col(TherapySession.id))
    )
    reminders = session.exec(
        scope.select(Reminder)
        .where(col(Reminder.active) == true())
        .order_by(col(Reminder.created_at), col(Reminder.id))
    )
    return FeedContent(owner_id, [SessionTime(*row) for row in sessions], list(reminders))

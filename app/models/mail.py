"""The mail outbox: messages written in the transaction that decided to send them."""

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class OutboxMessage(SQLModel, table=True):
    """One mail, whole (MIME), until it is sent: then the row is deleted, so the address and
    any code in it are kept no longer than it takes to deliver them."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_next_attempt_at", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    recipient: str = Field(max_length=254)
    message: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When an instance may next claim it: now for a new message, the end of the claim's
    # lease while one is sending it, the backoff after a failed try.
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    # A message still unsent then is dropped: its code has expired.
    expires_at: datetime = Field(sa_type=UTCDateTime)

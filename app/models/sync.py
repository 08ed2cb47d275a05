"""Bookkeeping for offline clients: a per-client change log and idempotency records."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, ForeignKeyConstraint, Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime


class ChangeLogEntry(SQLModel, table=True):
    """The latest change of each diary row, numbered by the client's own change sequence.

    One row per (owner, type, id): a row changed three times is reported once, at its
    latest number. A deletion keeps the row as a tombstone (`deleted_at`).
    """

    __tablename__ = "change_log"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_change_log_owner_id_seq", "owner_id", "seq", unique=True),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    entity_type: str = Field(primary_key=True, max_length=16)
    entity_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(sa_type=BigInteger)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """A POST's Idempotency-Key and its answer, stored in the transaction of its write."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_idempotency_keys_owner_id_created_at", "owner_id", "created_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path and body")
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: int
    headers: dict[str, str] = Field(sa_type=JSON)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False), description="Encrypted")

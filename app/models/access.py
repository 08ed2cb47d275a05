"""Therapist access: shares a client grants, the links therapists hold, and the audit trail."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index
from sqlmodel import Field, SQLModel

from app.models.base import Ciphertext, UTCDateTime, enum_column, new_id, utcnow


class ShareScope(StrEnum):
    full = "full"
    summaries = "summaries"


class Share(SQLModel, table=True):
    """A client's consent: a one-time code, then (once redeemed) one therapist's access."""

    __tablename__ = "shares"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["therapist_id"], ["users.id"], ondelete="SET NULL"),
        # The one lookup not by owner: a therapist arrives with nothing but the code.
        Index("ix_shares_code_hash", "code_hash", unique=True),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    scope: ShareScope = Field(sa_type=enum_column(ShareScope))
    code_hash: str = Field(max_length=64)
    code_expires_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    therapist_id: uuid.UUID | None = None
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TherapistLink(SQLModel, table=True):
    """The therapist's side of a redeemed share, keyed by the therapist (its owner)."""

    __tablename__ = "therapist_links"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["client_id", "share_id"], ["shares.owner_id", "shares.id"], ondelete="CASCADE"
        ),
    )

    owner_id: uuid.UUID = Field(primary_key=True, description="The therapist")
    client_id: uuid.UUID = Field(primary_key=True)
    share_id: uuid.UUID
    linked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """A therapist's read of a client's data, kept in the client's own log."""

    __tablename__ = "audit_events"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["therapist_id"], ["users.id"], ondelete="SET NULL"),
        Index("ix_audit_events_owner_id_at_id", "owner_id", "at", "id"),
    )

    owner_id: uuid.UUID = Field(primary_key=True, description="The client whose data was read")
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    therapist_id: uuid.UUID | None = None
    therapist_name: str = Field(sa_type=Ciphertext, description="As it was at the time of the read")
    action: str = Field(max_length=200, description="The route read, e.g. GET …/entries")
    outcome: str = Field(max_length=16)


class RedemptionFailure(SQLModel, table=True):
    """A wrong share code, counted per therapist so that codes cannot be guessed."""

    __tablename__ = "redemption_failures"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_redemption_failures_owner_id_failed_at", "owner_id", "failed_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditArchive(SQLModel, table=True):
    """What survives an erased client of their audit log: who read what, and when.

    No name, no free text, no account id: the client is known only by a keyed hash of their
    former id, so the record can be produced for that id on a lawful request, and for no
    one else.
    """

    __tablename__ = "audit_archive"
    __table_args__ = (ForeignKeyConstraint(["therapist_id"], ["users.id"], ondelete="SET NULL"),)

    client_pseudonym: str = Field(primary_key=True, max_length=64)
    id: uuid.UUID = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    therapist_id: uuid.UUID | None = None
    action: str = Field(max_length=200)
    outcome: str = Field(max_length=16)
    erased_at: datetime = Field(sa_type=UTCDateTime)

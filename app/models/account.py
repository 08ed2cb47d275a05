"""Accounts, login families, refresh tokens, failed-login records, the single-use codes
mailed to an account, therapist invitations and request throttles."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, Index, String, false
from sqlmodel import Field, SQLModel

from app.models.base import Ciphertext, UTCDateTime, enum_column, new_id, utcnow


class Role(StrEnum):
    client = "client"
    therapist = "therapist"


class UserBase(SQLModel):
    email: str = Field(max_length=254)
    role: Role = Field(sa_type=enum_column(Role))
    display_name: str = Field(max_length=80, sa_type=Ciphertext)
    timezone: str = Field(default="UTC", max_length=64)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    password_hash: str = Field(max_length=255)
    # The client's change sequence: every diary write takes the next numbers (app.sync).
    change_seq: int = Field(default=0, sa_type=BigInteger)
    # Set when the owner proves they read mail at `email` (a verification or reset code).
    email_verified: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The keyed hash of the secret in the account's calendar feed URL (app.calendar); None
    # until the client asks for one. Unique: the feed finds its account by it.
    calendar_token_hash: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, unique=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """One login: the family that every rotated refresh token of that login belongs to, or
    a portal login that a browser holds in a cookie (app.portal)."""

    __tablename__ = "login_sessions"
    __table_args__ = (ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A portal login (app.portal): the sha256 of its cookie's secret, and its last use (an
    # idle login expires). None for an API login.
    portal_secret_hash: str | None = Field(default=None, max_length=64)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["owner_id", "session_id"],
            ["login_sessions.owner_id", "login_sessions.id"],
            ondelete="CASCADE",
        ),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    session_id: uuid.UUID
    secret_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    spent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failures"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_login_failures_owner_id_failed_at", "owner_id", "failed_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RateWindow(SQLModel, table=True):
    """Requests an account made in one minute, shared by every instance of the service."""

    __tablename__ = "rate_windows"
    __table_args__ = (ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    minute: int = Field(primary_key=True, sa_type=BigInteger, description="Unix time // 60")
    requests: int = 0


class CodePurpose(StrEnum):
    password_reset = "password_reset"  # noqa: S105 - a name, not a secret
    email_verification = "email_verification"


class AccountCode(SQLModel, table=True):
    """A single-use code mailed to the account's address, kept only as a keyed hash."""

    __tablename__ = "account_codes"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_account_codes_owner_id_purpose", "owner_id", "purpose"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    purpose: CodePurpose = Field(sa_type=enum_column(CodePurpose))
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TherapistInvitation(SQLModel, table=True):
    """An operator's invitation for one address to open a therapist account (THERAPIST_SIGNUP
    =invite). No account owns it yet: it is looked up by its code's keyed hash."""

    __tablename__ = "therapist_invitations"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RequestThrottle(SQLModel, table=True):
    """Requests counted against one key (a keyed hash of an address or a client IP, never the
    value itself) in one fixed window, shared by every instance."""

    __tablename__ = "request_throttles"

    key_hash: str = Field(primary_key=True, max_length=64)
    window: int = Field(primary_key=True, sa_type=BigInteger, description="Unix time // length")
    hits: int = 0

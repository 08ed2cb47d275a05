"""Shares: a client's consent for one therapist to read, at a scope, until revoked."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from app.core.errors import ValidationFailed
from app.core.field_encryption import decrypt_column
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.core.settings import Settings
from app.models.access import AuditEvent, Share
from app.models.account import User
from app.models.base import utcnow
from app.shares import codes
from app.shares.schemas import (
    AuditEventPublic,
    ShareCreate,
    ShareCreated,
    SharePublic,
    ShareStatus,
)

CODE_LIFETIME = timedelta(hours=72)


def status_of(share: Share, now: datetime) -> ShareStatus:
    if share.revoked_at is not None:
        return ShareStatus.revoked
    if share.expires_at is not None and share.expires_at <= now:
        return ShareStatus.expired
    if share.redeemed_at is not None:
        return ShareStatus.active
    return ShareStatus.expired if share.code_expires_at <= now else ShareStatus.pending


def grants_access(now: datetime) -> ColumnElement[bool]:
    """SQL for: redeemed, not revoked, not past its end."""
    return and_(
        col(Share.redeemed_at).is_not(None),
        col(Share.revoked_at).is_(None),
        or_(col(Share.expires_at).is_(None), col(Share.expires_at) > now),
    )


def _public(share: Share, therapist_name: str | None, now: datetime) -> SharePublic:
    return SharePublic.model_validate(
        {
            **share.model_dump(),
            "status": status_of(share, now),
            "therapist_name": therapist_name,
        }
    )


def create(
    session: Session, scope: OwnerScope, data: ShareCreate, settings: Settings
) -> ShareCreated:
    now = utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise ValidationFailed.for_field("body.expires_at", "must be in the future")
    code = codes.new_code()
    code_expires_at = now + CODE_LIFETIME
    if data.expires_at is not None:
        code_expires_at = min(code_expires_at, data.expires_at)
    share = scope.new_row(
        Share,
        {
            "scope": data.scope,
            "expires_at": data.expires_at,
            "code_hash": codes.code_hash(code, settings.secret_key.get_secret_value()),
            "code_expires_at": code_expires_at,
            "created_at": now,
        },
        None,
    )
    session.add(share)
    session.flush()
    return ShareCreated.model_validate({**_public(share, None, now).model_dump(), "code": code})


def page(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[SharePublic], str | None]:
    rows, next_cursor = keyset_page(
        session, scope.select(Share), col(Share.created_at), col(Share.id),
        limit=limit, cursor=cursor, newest_first=True,
    )  # fmt: skip
    therapist_ids = {row.therapist_id for row in rows if row.therapist_id is not None}
    names = {
        user_id: decrypt_column(session, User, "display_name", user_id, user_id, name)
        for user_id, name in session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(therapist_ids))
        ).all()
    }
    now = utcnow()
    return [_public(row, names.get(row.therapist_id), now) for row in rows], next_cursor  # type: ignore[arg-type]


def revoke(session: Session, scope: OwnerScope, share_id: uuid.UUID) -> None:
    share = scope.get(session, Share, share_id, "share")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        session.add(share)
        session.flush()


def access_log(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[AuditEventPublic], str | None]:
    rows, next_cursor = keyset_page(
        session, scope.select(AuditEvent), col(AuditEvent.at), col(AuditEvent.id),
        limit=limit, cursor=cursor, newest_first=True,
    )  # fmt: skip
    return [AuditEventPublic.model_validate(row, from_attributes=True) for row in rows], next_cursor

"""The therapist's side: redeeming a client's code, and the list of linked clients."""

from datetime import timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.core.errors import TooManyRequests, ValidationFailed
from app.core.field_encryption import decrypt_column
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.core.settings import Settings
from app.models.access import RedemptionFailure, Share, TherapistLink
from app.models.account import User
from app.models.base import utcnow
from app.models.diary import Entry
from app.shares import codes
from app.shares.service import grants_access
from app.therapist.schemas import LinkedClient

MAX_FAILED_REDEMPTIONS = 5
FAILURE_WINDOW = timedelta(minutes=15)


class CodeRefused(ValidationFailed):
    keeps_writes = True  # the failed guess is counted


def _refuse_while_throttled(session: Session, therapist: User) -> None:
    window_start = utcnow() - FAILURE_WINDOW
    count, oldest = session.exec(
        select(func.count(), func.min(RedemptionFailure.failed_at)).where(
            col(RedemptionFailure.owner_id) == therapist.id,
            col(RedemptionFailure.failed_at) >= window_start,
        )
    ).one()
    if count >= MAX_FAILED_REDEMPTIONS and oldest is not None:
        retry_after = int((oldest - window_start).total_seconds()) + 1
        raise TooManyRequests("Too many wrong codes; try again later", retry_after)


def redeem(session: Session, therapist: User, code: str, settings: Settings) -> LinkedClient:
    _refuse_while_throttled(session, therapist)
    now = utcnow()
    share = session.exec(
        select(Share).where(
            col(Share.code_hash) == codes.code_hash(code, settings.secret_key.get_secret_value()),
            col(Share.redeemed_at).is_(None),
            col(Share.revoked_at).is_(None),
            col(Share.code_expires_at) > now,
        )
    ).first()
    if share is None:
        session.add(RedemptionFailure(owner_id=therapist.id))
        session.flush()
        raise CodeRefused.for_field("body.code", "unknown, already used, revoked or expired")
    share.therapist_id, share.redeemed_at = therapist.id, now
    session.add(share)
    link = session.get(TherapistLink, (therapist.id, share.owner_id))
    if link is None:
        link = TherapistLink(owner_id=therapist.id, client_id=share.owner_id, share_id=share.id)
    else:
        # A newer share replaces the older one: the older stops granting, and says so.
        older = session.get(Share, (share.owner_id, link.share_id))
        if older is not None and older.revoked_at is None:
            older.revoked_at = now
            session.add(older)
    link.share_id, link.linked_at = share.id, now
    session.add(link)
    session.flush()
    return _clients(session, therapist, limit=1, cursor=None, client_id=share.owner_id)[0][0]


def _clients(
    session: Session,
    therapist: User,
    *,
    limit: int,
    cursor: str | None,
    client_id: object | None = None,
) -> tuple[list[LinkedClient], str | None]:
    now = utcnow()
    stmt = (
        select(TherapistLink)
        .join(
            Share,
            and_(
                col(Share.owner_id) == col(TherapistLink.client_id),
                col(Share.id) == col(TherapistLink.share_id),
            ),
        )
        .where(col(TherapistLink.owner_id) == therapist.id, grants_access(now))
    )
    if client_id is not None:
        stmt = stmt.where(col(TherapistLink.client_id) == client_id)
    links, next_cursor = keyset_page(
        session, stmt, col(TherapistLink.linked_at), col(TherapistLink.client_id),
        limit=limit, cursor=cursor, newest_first=True,
    )  # fmt: skip
    if not links:
        return [], next_cursor
    ids = [link.client_id for link in links]
    details = {
        row[0]: row
        for row in session.exec(
            select(User.id, User.display_name, Share.scope, Share.expires_at)
            .join(Share, col(Share.owner_id) == col(User.id))
            .where(col(Share.id).in_([link.share_id for link in links]))
        ).all()
    }
    shared_entries = or_(
        *(and_(*OwnerScope(client, include_private=False).conditions(Entry)) for client in ids)
    )
    last_entry = dict(
        session.exec(
            select(Entry.owner_id, func.max(Entry.occurred_at))
            .where(shared_entries)
            .group_by(col(Entry.owner_id))
        ).all()
    )
    return [
        LinkedClient(
            client_id=link.client_id,
            display_name=decrypt_column(
                session,
                User,
                "display_name",
                link.client_id,
                link.client_id,
                details[link.client_id][1],
            ),
            scope=details[link.client_id][2],
            linked_at=link.linked_at,
            expires_at=details[link.client_id][3],
            last_entry_at=last_entry.get(link.client_id),
        )
        for link in links
    ], next_cursor


def clients(
    session: Session, therapist: User, *, limit: int, cursor: str | None
) -> tuple[list[LinkedClient], str | None]:
    return _clients(session, therapist, limit=limit, cursor=cursor)

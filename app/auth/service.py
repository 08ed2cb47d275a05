"""Accounts: registration (with email verification and, in invite mode, a therapist's
invitation), passwords a person can change or reset by mail, the profile, and erasure
(DESIGN §10). Logins and tokens are app.auth.logins."""

import hashlib
import hmac
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.auth import logins, throttle
from app.auth.codes import code_hash, new_code
from app.auth.schemas import (
    PasswordChange,
    PasswordResetConfirm,
    UserRegister,
    UserUpdate,
)
from app.core.database.problems import as_problems
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidField,
    ValidationFailed,
)
from app.core.scoping import OwnerScope
from app.core.security import hash_password, verify_password
from app.core.settings import Settings
from app.mail import outbox
from app.mail.compose import MailKind, compose
from app.models.access import AuditArchive, AuditEvent
from app.models.account import (
    AccountCode,
    CodePurpose,
    LoginFailure,
    Role,
    TherapistInvitation,
    User,
)
from app.models.base import UTCDateTime, utcnow
from app.models.diary import Entry

RESET_CODE_VALIDITY = timedelta(minutes=30)
VERIFICATION_CODE_VALIDITY = timedelta(hours=48)
INVITATION_VALIDITY = timedelta(days=14)
INVITATION = "therapist_invitation"  # the purpose an invitation code is hashed for


class PasswordMismatch(Forbidden):
    keeps_writes = True  # counted as a failed login, like a wrong password at login


class WrongCode(ValidationFailed):
    keeps_writes = True  # the attempt stays counted by the throttle


def _wrong_code() -> WrongCode:
    message = "the code is wrong, expired or already used"
    return WrongCode(
        f"body.code: {message}",
        errors=[InvalidField(field="body.code", message=message, type="value_error")],
    )


def register(session: Session, data: UserRegister, settings: Settings) -> User:
    email = data.email.lower()
    if data.role is Role.therapist and settings.therapist_signup == "invite":
        _spend_invitation(session, data.invitation_code, email, settings)
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        role=data.role,
        display_name=data.display_name,
        timezone=data.timezone,
    )
    session.add(user)
    with as_problems(session, conflict="An account with this email already exists"):
        session.flush()
    _send_code(session, user.id, email, MailKind.email_verification, settings)
    return user


def _spend_invitation(session: Session, code: str | None, email: str, settings: Settings) -> None:
    hashed = code_hash(code, INVITATION, settings) if code else None
    spent = None
    if hashed is not None:
        now = utcnow()
        # A conditional update: two registrations with one code cannot both spend it.
        spent = session.exec(
            update(TherapistInvitation)
            .where(
                col(TherapistInvitation.code_hash) == hashed,
                col(TherapistInvitation.email) == email,
                col(TherapistInvitation.used_at).is_(None),
                col(TherapistInvitation.expires_at) > now,
            )
            .values(used_at=now)
        )
    if spent is None or spent.rowcount != 1:
        raise Forbidden("Therapist accounts need a valid invitation code for this email address")


def invite_therapist(session: Session, email: str, settings: Settings) -> str:
    """A new invitation for `email` (the operator's CLI); its code, which is not stored."""
    code = new_code()
    hashed = code_hash(code, INVITATION, settings)
    assert hashed is not None  # noqa: S101 - new_code makes codes code_hash reads
    session.add(
        TherapistInvitation(
            code_hash=hashed,
            email=email.strip().lower(),
            expires_at=utcnow() + INVITATION_VALIDITY,
        )
    )
    return code


_CODE_MAILS = {
    MailKind.email_verification: (
        CodePurpose.email_verification,
        VERIFICATION_CODE_VALIDITY,
        "verify-email",
    ),
    MailKind.password_reset: (CodePurpose.password_reset, RESET_CODE_VALIDITY, "reset"),
}


def _send_code(
    session: Session, owner_id: uuid.UUID | None, email: str, kind: MailKind, settings: Settings
) -> None:
    """Mail a new single-use code to `email` for the account `owner_id`. Without an account
    the code and its mail are made all the same and then dropped: the same work either way,
    so the time of the answer does not tell whether an account exists."""
    purpose, validity, path = _CODE_MAILS[kind]
    code = new_code()
    hashed = code_hash(code, purpose, settings)
    expires_at = utcnow() + validity
    message = compose(
        kind,
        email,
        settings,
        code=code,
        link=f"{settings.app_link_base}{path}?{urlencode({'code': code})}",
        minutes=int(validity.total_seconds() // 60),
        hours=int(validity.total_seconds() // 3600),
    )
    if owner_id is None or hashed is None:
        return
    session.add(
        AccountCode(owner_id=owner_id, purpose=purpose, code_hash=hashed, expires_at=expires_at)
    )
    outbox.enqueue(session, email, message, expires_at)


def _spend_code(session: Session, owner_id: uuid.UUID, purpose: CodePurpose, hashed: str) -> bool:
    now = utcnow()
    spent = session.exec(
        update(AccountCode)
        .where(
            col(AccountCode.owner_id) == owner_id,
            col(AccountCode.purpose) == purpose,
            col(AccountCode.code_hash) == hashed,
            col(AccountCode.used_at).is_(None),
            col(AccountCode.expires_at) > now,
        )
        .values(used_at=now)
    )
    return spent.rowcount == 1


def _account_id(session: Session, email: str) -> uuid.UUID | None:
    if "\x00" in email:  # no account has one, and PostgreSQL refuses it in a query
        return None
    return session.exec(select(User.id).where(col(User.email) == email)).first()


def resend_verification(session: Session, user: User, settings: Settings) -> None:
    """A new verification code for an address not yet verified (the mail was lost, or its
    code expired); codes mailed before stay valid until they expire."""
    if user.email_verified:
        raise Conflict("This address is already verified")
    throttle.take(session, throttle.RESEND_PER_ACCOUNT, str(user.id), settings)
    _send_code(session, user.id, user.email, MailKind.email_verification, settings)


def verify_email(session: Session, user: User, code: str, settings: Settings) -> User:
    throttle.take(session, throttle.VERIFY_PER_ACCOUNT, str(user.id), settings)
    hashed = code_hash(code, CodePurpose.email_verification, settings)
    if hashed is None or not _spend_code(session, user.id, CodePurpose.email_verification, hashed):
        raise _wrong_code()
    user.email_verified = True
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


def request_password_reset(
    session: Session, email: str, client_ip: str, settings: Settings
) -> None:
    """Mail a reset code if an account has this address; the same answer either way."""
    email = email.lower()
    throttle.take(session, throttle.RESET_PER_ADDRESS, email, settings)
    throttle.take(session, throttle.RESET_PER_CLIENT, client_ip, settings)
    _send_code(session, _account_id(session, email), email, MailKind.password_reset, settings)


def confirm_password_reset(
    session: Session, data: PasswordResetConfirm, client_ip: str, settings: Settings
) -> None:
    email = data.email.lower()
    throttle.take(session, throttle.CONFIRM_PER_ADDRESS, email, settings)
    throttle.take(session, throttle.CONFIRM_PER_CLIENT, client_ip, settings)
    owner_id = _account_id(session, email)
    hashed = code_hash(data.code, CodePurpose.password_reset, settings)
    if (
        owner_id is None
        or hashed is None
        or not _spend_code(session, owner_id, CodePurpose.password_reset, hashed)
    ):
        raise _wrong_code()
    now = utcnow()
    # The other codes of this reset are spent with it: one reset, one new password.
    session.exec(
        update(AccountCode)
        .where(
            col(AccountCode.owner_id) == owner_id,
            col(AccountCode.purpose) == CodePurpose.password_reset,
            col(AccountCode.used_at).is_(None),
        )
        .values(used_at=now)
    )
    # The code came by mail to this address: that proves the address as well.
    session.exec(
        update(User)
        .where(col(User.id) == owner_id)
        .values(password_hash=hash_password(data.new_password), email_verified=True, updated_at=now)
    )
    session.exec(delete(LoginFailure).where(col(LoginFailure.owner_id) == owner_id))
    logins.revoke_logins(session, owner_id, keep=None)


def change_password(
    session: Session,
    user: User,
    current_login: uuid.UUID,
    data: PasswordChange,
    settings: Settings,
) -> None:
    """A new password; every login of the account but the caller's ends."""
    logins.refuse_while_throttled(session, user, settings)
    if not verify_password(data.current_password, user.password_hash):
        session.add(LoginFailure(owner_id=user.id))
        session.flush()
        raise PasswordMismatch("The current password does not match")
    user.password_hash = hash_password(data.new_password)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    logins.revoke_logins(session, user.id, keep=current_login)


def update_profile(session: Session, user: User, changes: UserUpdate) -> User:
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, field, value)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


def erase_account(session: Session, user: User, password: str, settings: Settings) -> None:
    """Erase the account and everything it owns; tokens, shares and links go with it.

    Therapists' reads of this client's data are kept, pseudonymised (AuditArchive)."""
    if not verify_password(password, user.password_hash):
        raise Forbidden("The password does not match")
    pseudonym = hmac.new(
        settings.secret_key.get_secret_value().encode(), user.id.bytes, hashlib.sha256
    ).hexdigest()
    erased_at = utcnow()
    session.execute(
        insert(AuditArchive).from_select(
            ["client_pseudonym", "id", "at", "therapist_id", "action", "outcome", "erased_at"],
            sa_select(
                literal(pseudonym),
                col(AuditEvent.id),
                col(AuditEvent.at),
                col(AuditEvent.therapist_id),
                col(AuditEvent.action),
                col(AuditEvent.outcome),
                literal(erased_at, UTCDateTime()),
            ).where(col(AuditEvent.owner_id) == user.id),
        )
    )
    # Entries first: PostgreSQL checks the entry → person key while it cascades the people,
    # before it has reached the entries. Everything else goes with the account (CASCADE).
    session.execute(delete(Entry).where(*OwnerScope(user.id).conditions(Entry)))
    session.delete(user)
    session.flush()

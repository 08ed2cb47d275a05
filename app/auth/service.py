"""Accounts and logins: registration (with email verification and, in invite mode, a
therapist's invitation), password login with throttling, refresh rotation, and passwords a
person can change or reset by mail (DESIGN §10)."""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.auth import throttle
from app.auth.codes import code_hash, new_code
from app.auth.schemas import (
    PasswordChange,
    PasswordResetConfirm,
    TokenPair,
    UserRegister,
    UserUpdate,
)
from app.core.database.problems import as_problems
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidField,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from app.core.scoping import OwnerScope
from app.core.security import create_access_token, hash_password, verify_password
from app.core.settings import Settings
from app.mail import outbox
from app.mail.compose import MailKind, compose
from app.models.access import AuditArchive, AuditEvent
from app.models.account import (
    AccountCode,
    CodePurpose,
    LoginFailure,
    LoginSession,
    RefreshToken,
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


class LoginFailed(Unauthorized):
    keeps_writes = True  # the failure just recorded must survive the error response


class RefreshTokenReused(Unauthorized):
    keeps_writes = True  # the revocation of the whole family must survive too


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
    _revoke_logins(session, owner_id, keep=None)


def change_password(
    session: Session,
    user: User,
    current_login: uuid.UUID,
    data: PasswordChange,
    settings: Settings,
) -> None:
    """A new password; every login of the account but the caller's ends."""
    _refuse_while_throttled(session, user, settings)
    if not verify_password(data.current_password, user.password_hash):
        session.add(LoginFailure(owner_id=user.id))
        session.flush()
        raise PasswordMismatch("The current password does not match")
    user.password_hash = hash_password(data.new_password)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    _revoke_logins(session, user.id, keep=current_login)


def _revoke_logins(session: Session, owner_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    """End the account's logins (API and portal), all but `keep`."""
    conditions = [col(LoginSession.owner_id) == owner_id, col(LoginSession.revoked_at).is_(None)]
    if keep is not None:
        conditions.append(col(LoginSession.id) != keep)
    session.exec(update(LoginSession).where(*conditions).values(revoked_at=utcnow()))


def authenticate(session: Session, email: str, password: str, settings: Settings) -> User:
    """The account these credentials open, unless it is throttled; a wrong password is
    counted against it (the API's login and the portal's share this)."""
    email = email.strip().lower()
    user = None
    if "\x00" not in email:  # no account has one, and PostgreSQL refuses it in a query
        user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is not None:
        _refuse_while_throttled(session, user, settings)
    if user is None or not verify_password(password, user.password_hash):
        if user is not None:
            session.add(LoginFailure(owner_id=user.id))
            session.flush()
        raise LoginFailed("Incorrect email or password")
    session.exec(delete(LoginFailure).where(col(LoginFailure.owner_id) == user.id))
    return user


def login(session: Session, email: str, password: str, settings: Settings) -> TokenPair:
    user = authenticate(session, email, password, settings)
    login_session = LoginSession(owner_id=user.id)
    session.add(login_session)
    session.flush()
    return _issue_tokens(session, user, login_session.id, settings)


def _refuse_while_throttled(session: Session, user: User, settings: Settings) -> None:
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    count, oldest = session.exec(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            col(LoginFailure.owner_id) == user.id, col(LoginFailure.failed_at) >= window_start
        )
    ).one()
    if count >= settings.login_max_failures and oldest is not None:
        # The window frees up when its oldest failure leaves it.
        retry_after = (oldest - window_start).total_seconds()
        raise TooManyRequests(
            "Too many failed logins for this account; try again later", int(retry_after) + 1
        )


@dataclass(frozen=True)
class _ParsedRefreshToken:
    owner_id: uuid.UUID
    token_id: uuid.UUID
    secret: bytes


def _encode_refresh_token(owner_id: uuid.UUID, token_id: uuid.UUID, secret: bytes) -> str:
    return base64.urlsafe_b64encode(owner_id.bytes + token_id.bytes + secret).decode().rstrip("=")


def _parse_refresh_token(token: str) -> _ParsedRefreshToken:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("The refresh token is invalid") from exc
    if len(raw) != 64:
        raise Unauthorized("The refresh token is invalid")
    return _ParsedRefreshToken(uuid.UUID(bytes=raw[:16]), uuid.UUID(bytes=raw[16:32]), raw[32:])


def _hash_secret(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


def _issue_tokens(
    session: Session, user: User, login_session_id: uuid.UUID, settings: Settings
) -> TokenPair:
    secret = secrets.token_bytes(32)
    refresh = RefreshToken(
        owner_id=user.id,
        session_id=login_session_id,
        secret_hash=_hash_secret(secret),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
    )
    session.add(refresh)
    session.flush()
    return TokenPair(
        access_token=create_access_token(user, login_session_id, settings),
        expires_in=settings.access_token_minutes * 60,
        refresh_token=_encode_refresh_token(user.id, refresh.id, secret),
    )


def _find_refresh_token(session: Session, token: str) -> tuple[RefreshToken, LoginSession]:
    parsed = _parse_refresh_token(token)
    found = session.exec(
        select(RefreshToken, LoginSession)
        .join(
            LoginSession,
            (col(LoginSession.owner_id) == col(RefreshToken.owner_id))
            & (col(LoginSession.id) == col(RefreshToken.session_id)),
        )
        .where(
            col(RefreshToken.owner_id) == parsed.owner_id,
            col(RefreshToken.id) == parsed.token_id,
        )
    ).first()
    if found is None or not hmac.compare_digest(found[0].secret_hash, _hash_secret(parsed.secret)):
        raise Unauthorized("The refresh token is invalid")
    return found


def revoke_login(session: Session, login_session: LoginSession) -> None:
    """End a login (the API's or the portal's): its tokens or its cookie stop working."""
    session.exec(
        update(LoginSession)
        .where(
            col(LoginSession.owner_id) == login_session.owner_id,
            col(LoginSession.id) == login_session.id,
            col(LoginSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


def refresh(session: Session, token: str, settings: Settings) -> TokenPair:
    stored, login_session = _find_refresh_token(session, token)
    if login_session.revoked_at is not None:
        raise Unauthorized("This login has been revoked")
    if stored.expires_at <= utcnow():
        raise Unauthorized("The refresh token has expired")
    # Spend it with a conditional update, so two concurrent refreshes cannot both win.
    spent = session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.owner_id) == stored.owner_id,
            col(RefreshToken.id) == stored.id,
            col(RefreshToken.spent_at).is_(None),
        )
        .values(spent_at=utcnow())
    )
    if spent.rowcount != 1:
        revoke_login(session, login_session)
        raise RefreshTokenReused(
            "This refresh token was already used; the login has been revoked for safety"
        )
    user = session.get_one(User, stored.owner_id)
    return _issue_tokens(session, user, login_session.id, settings)


def logout(session: Session, token: str) -> None:
    _, login_session = _find_refresh_token(session, token)
    revoke_login(session, login_session)


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

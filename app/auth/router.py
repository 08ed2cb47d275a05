from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from app.auth import logins, service
from app.auth.schemas import (
    AccountDeletion,
    EmailVerification,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from app.core.authentication import BearerSubject
from app.core.callers import CurrentUser
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.settings import SettingsDep

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
me_router = APIRouter(prefix="/v1/me", tags=["account"])


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a client or therapist account",
    description="A code to verify the address is mailed to it (`POST /v1/auth/verify-email`). "
    "When the service only admits invited therapists, a therapist account needs the "
    "`invitation_code` the operator made for its address (403 without a valid one).",
    responses=problem_responses(403, 409, 413, 422),
)
async def register(db: Writes, data: UserRegister, settings: SettingsDep) -> UserPublic:
    user = await db.run(service.register, data, settings)
    return UserPublic.model_validate(user, from_attributes=True)


@auth_router.post(
    "/token",
    summary="Log in with email and password (OAuth2 password flow)",
    description="Ten failed logins for one account within 15 minutes answer 429 with "
    "`Retry-After` until the oldest failure leaves the window.",
    responses=problem_responses(401, 422, 429),
)
async def token(
    db: Writes, form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep
) -> TokenPair:
    return await db.run(logins.login, form.username, form.password, settings)


@auth_router.post(
    "/refresh",
    summary="Exchange a refresh token for a new token pair",
    description="The refresh token is spent. Presenting a spent one again revokes the "
    "whole login (every token descended from the same password login).",
    responses=problem_responses(401, 422),
)
async def refresh(db: Writes, data: RefreshRequest, settings: SettingsDep) -> TokenPair:
    return await db.run(logins.refresh, data.refresh_token, settings)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the login a refresh token belongs to",
    responses=problem_responses(401, 422),
)
async def logout(db: Writes, data: RefreshRequest) -> Response:
    await db.run(logins.logout, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm the account's email address with the code mailed to it",
    description="A wrong, expired or used code is 422 naming `body.code`; ten attempts per "
    "account in 15 minutes, then 429.",
    responses=problem_responses(401, 422, 429),
)
async def verify_email(
    db: Writes, data: EmailVerification, user: CurrentUser, settings: SettingsDep
) -> Response:
    await db.run(service.verify_email, user, data.code, settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Mail a new code to verify the account's address",
    description="For a code lost or expired (each is valid 48 hours; earlier ones stay valid "
    "until then). 409 once the address is verified; three per account in 15 minutes, then "
    "429.",
    responses=problem_responses(401, 409, 429),
)
async def resend_verification(db: Writes, user: CurrentUser, settings: SettingsDep) -> Response:
    await db.run(service.resend_verification, user, settings)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@auth_router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,  # no body: the answer says nothing about the account
    summary="Mail a password reset code to an account's address",
    description="Always 202, whether or not an account has this address. If one does, a "
    "single-use code valid 30 minutes is mailed to it. Throttled per address and per "
    "client (429).",
    responses=problem_responses(422, 429),
)
async def request_password_reset(
    db: Writes, data: PasswordResetRequest, request: Request, settings: SettingsDep
) -> Response:
    await db.run(service.request_password_reset, data.email, _client_ip(request), settings)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@auth_router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with a mailed reset code",
    description="Every login of the account (API and portal) is revoked. A wrong, expired or "
    "used code is 422 naming `body.code`. Throttled per address and per client (429).",
    responses=problem_responses(422, 429),
)
async def confirm_password_reset(
    db: Writes, data: PasswordResetConfirm, request: Request, settings: SettingsDep
) -> Response:
    await db.run(service.confirm_password_reset, data, _client_ip(request), settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("", summary="The caller's account", responses=problem_responses(401))
async def read_me(_db: Reads, user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@me_router.patch(
    "",
    summary="Change display name or time zone",
    responses=problem_responses(401, 422),
)
async def update_me(db: Writes, changes: UserUpdate, user: CurrentUser) -> UserPublic:
    updated = await db.run(service.update_profile, user, changes)
    return UserPublic.model_validate(updated, from_attributes=True)


@me_router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password",
    description="Needs the current password (a wrong one counts as a failed login, 403). "
    "Every other login of the account is revoked; the caller's stays.",
    responses=problem_responses(401, 403, 422, 429),
)
async def change_password(
    db: Writes,
    data: PasswordChange,
    user: CurrentUser,
    subject: BearerSubject,
    settings: SettingsDep,
) -> Response:
    await db.run(service.change_password, user, subject.login_session_id, data, settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase the account and everything it owns",
    description="Needs the account's password. Every token of the account is refused afterwards.",
    responses=problem_responses(401, 403, 422),
)
async def delete_me(
    db: Writes, data: AccountDeletion, user: CurrentUser, settings: SettingsDep
) -> Response:
    await db.run(service.erase_account, user, data.password, settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

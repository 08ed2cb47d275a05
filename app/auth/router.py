from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from app.auth import service
from app.auth.schemas import (
    AccountDeletion,
    RefreshRequest,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from app.core.callers import CurrentUser
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.settings import SettingsDep

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
me_router = APIRouter(prefix="/v1/me", tags=["account"])


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a client or therapist account",
    responses=problem_responses(409, 413, 422),
)
async def register(db: Writes, data: UserRegister) -> UserPublic:
    return UserPublic.model_validate(await db.run(service.register, data), from_attributes=True)


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
    return await db.run(service.login, form.username, form.password, settings)


@auth_router.post(
    "/refresh",
    summary="Exchange a refresh token for a new token pair",
    description="The refresh token is spent. Presenting a spent one again revokes the "
    "whole login (every token descended from the same password login).",
    responses=problem_responses(401, 422),
)
async def refresh(db: Writes, data: RefreshRequest, settings: SettingsDep) -> TokenPair:
    return await db.run(service.refresh, data.refresh_token, settings)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the login a refresh token belongs to",
    responses=problem_responses(401, 422),
)
async def logout(db: Writes, data: RefreshRequest) -> Response:
    await db.run(service.logout, data.refresh_token)
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

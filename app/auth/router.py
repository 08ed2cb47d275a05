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
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.security import CurrentUser
from app.core.settings import SettingsDep

auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
me_router = APIRouter(prefix="/v1/me", tags=["account"])


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a client or therapist account",
    responses=problem_responses(409, 413, 422),
)
def register(data: UserRegister, session: SessionDep) -> UserPublic:
    return UserPublic.model_validate(service.register(session, data), from_attributes=True)


@auth_router.post(
    "/token",
    summary="Log in with email and password (OAuth2 password flow)",
    description="Ten failed logins for one account within 15 minutes answer 429 with "
    "`Retry-After` until the oldest failure leaves the window.",
    responses=problem_responses(401, 422, 429),
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    return service.login(session, form.username, form.password, settings)


@auth_router.post(
    "/refresh",
    summary="Exchange a refresh token for a new token pair",
    description="The refresh token is spent. Presenting a spent one again revokes the "
    "whole login (every token descended from the same password login).",
    responses=problem_responses(401, 422),
)
def refresh(data: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return service.refresh(session, data.refresh_token, settings)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the login a refresh token belongs to",
    responses=problem_responses(401, 422),
)
def logout(data: RefreshRequest, session: SessionDep) -> Response:
    service.logout(session, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("", summary="The caller's account", responses=problem_responses(401))
async def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@me_router.patch(
    "",
    summary="Change display name or time zone",
    responses=problem_responses(401, 422),
)
def update_me(changes: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    updated = service.update_profile(session, user, changes)
    return UserPublic.model_validate(updated, from_attributes=True)


@me_router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase the account and everything it owns",
    description="Needs the account's password. Every token of the account is refused afterwards.",
    responses=problem_responses(401, 403, 422),
)
def delete_me(
    data: AccountDeletion, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    service.erase_account(session, user, data.password, settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

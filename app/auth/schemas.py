import uuid
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.models.account import Role, UserBase
from app.models.base import NONBLANK_TEXT_PATTERN

_ZONES = frozenset(available_timezones())


def _known_zone(name: str) -> str:
    if name not in _ZONES:
        raise ValueError("not an IANA time zone name, e.g. Europe/London")
    return name


TimeZoneName = Annotated[
    str, AfterValidator(_known_zone), Field(examples=["Europe/London"], max_length=64)
]
DisplayName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=80, pattern=NONBLANK_TEXT_PATTERN
    ),
]
Password = Annotated[str, Field(min_length=10, max_length=128, examples=["correct horse battery"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRegister(Strict):
    email: EmailStr = Field(max_length=254, examples=["ana@example.org"])
    password: Password
    role: Role = Role.client
    display_name: DisplayName = Field(examples=["Ana"])
    timezone: TimeZoneName = "UTC"


class UserPublic(UserBase):
    id: uuid.UUID


class UserUpdate(Strict):
    display_name: DisplayName | None = None
    timezone: TimeZoneName | None = None


class AccountDeletion(Strict):
    password: str = Field(max_length=128)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires", examples=[900])
    refresh_token: str


class RefreshRequest(Strict):
    refresh_token: str = Field(max_length=200)

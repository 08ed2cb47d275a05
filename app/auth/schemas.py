import uuid
from importlib import resources
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from app.models.account import Role, UserBase
from app.models.base import NONBLANK_TEXT_PATTERN

# The IANA names of the tzdata package (a dependency), not the machine's: the same list
# everywhere, published as the schema's enum so a generated client can offer it.
ZONES = tuple(sorted(resources.files("tzdata").joinpath("zones").read_text().split()))
_KNOWN = frozenset(ZONES)


def _known_zone(name: str) -> str:
    if name not in _KNOWN:
        raise ValueError("not an IANA time zone name, e.g. Europe/London")
    return name


TimeZoneName = Annotated[
    str,
    AfterValidator(_known_zone),
    WithJsonSchema({"type": "string", "enum": list(ZONES), "examples": ["Europe/London"]}),
]
DisplayName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=80, pattern=NONBLANK_TEXT_PATTERN
    ),
]
Password = Annotated[str, Field(min_length=10, max_length=128, examples=["correct horse battery"])]
Email = Annotated[EmailStr, Field(max_length=254, examples=["ana@example.org"])]
# Ten letters and digits as mailed (dashes, spaces and case are ignored); a code is checked
# against the ones the API issued, so a well-formed one can still be wrong (422).
Code = Annotated[str, Field(min_length=10, max_length=32, examples=["7K3QD-M9XTB"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRegister(Strict):
    email: Email
    password: Password
    role: Role = Role.client
    display_name: DisplayName = Field(examples=["Ana"])
    timezone: TimeZoneName = "UTC"
    invitation_code: Code | None = Field(
        default=None,
        description="Required for a therapist account when the service only admits invited "
        "therapists: the code the operator made for this email address. Single use; "
        "without a valid one the answer is 403. Ignored for a client account.",
    )


class UserPublic(UserBase):
    id: uuid.UUID
    email_verified: bool = Field(
        description="Whether the account's owner has entered a code mailed to its address"
    )


class PasswordChange(Strict):
    current_password: str = Field(max_length=128)
    new_password: Password


class PasswordResetRequest(Strict):
    email: Email


class PasswordResetConfirm(Strict):
    email: Email
    code: Code = Field(description="The code mailed to the address, valid 30 minutes, once")
    new_password: Password


class EmailVerification(Strict):
    code: Code = Field(description="The code mailed to the account's address at registration")


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

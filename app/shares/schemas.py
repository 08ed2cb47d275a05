import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.models.access import ShareScope
from app.models.diary import UTCInstant


class ShareStatus(StrEnum):
    pending = "pending"  # code not redeemed yet
    active = "active"  # a therapist holds it
    revoked = "revoked"
    expired = "expired"  # code unredeemed past its 72 h, or access past expires_at


class ShareCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"scope": "summaries", "expires_at": "2027-02-01T00:00:00Z"}]
        },
    )

    scope: ShareScope = Field(
        description="`full`: diary, people, focus areas, sessions, measures, summaries and "
        "export (private entries never); `summaries`: the summaries only"
    )
    expires_at: UTCInstant | None = Field(
        default=None, description="When the therapist's access ends (must be in the future)"
    )


class SharePublic(BaseModel):
    id: uuid.UUID
    scope: ShareScope
    status: ShareStatus
    created_at: datetime
    code_expires_at: datetime = Field(description="Redeem the code before this (≤ 72 hours)")
    expires_at: datetime | None
    therapist_id: uuid.UUID | None
    therapist_name: str | None
    redeemed_at: datetime | None
    revoked_at: datetime | None


class ShareCreated(SharePublic):
    code: str = Field(
        description="One-time code to give the therapist (shown once; 50 bits, no 0/O or "
        "1/I/L confusion)",
        examples=["7QK2M-XJ9RD"],
    )


class AuditEventPublic(BaseModel):
    at: datetime
    therapist_id: uuid.UUID | None
    therapist_name: str
    action: str = Field(examples=["entries", "summaries/mood-by-person"])
    outcome: str = Field(description="`ok`, or `denied` when the share's scope did not allow it")

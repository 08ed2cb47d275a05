"""Crisis resources the app shows at once when a write suggests the client may be at risk,
and the record of each time it did."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.settings import Settings
from app.models.safety import SafetyReason

LOW_MOOD_THRESHOLD = 1
REASONS = (
    "`low_mood`: an entry with mood ≤ 1; `phq9_item9`: a PHQ-9 whose item 9 (thoughts of "
    "self-harm) scored above 0; `epds_item10`: an EPDS whose item 10 (thoughts of harming "
    "oneself) scored above 0"
)


class Safety(BaseModel):
    """Present only on the write that triggered it; the app should show it straight away."""

    reason: SafetyReason = Field(description=REASONS)
    message: str
    helpline_url: str


class SafetyEventPublic(BaseModel):
    """A safety notice the API gave, kept (once per entry or measure and reason)."""

    id: uuid.UUID
    at: datetime = Field(description="When the notice was given")
    reason: SafetyReason = Field(description=REASONS)
    source_type: Literal["entry", "measure"]
    source_id: uuid.UUID = Field(description="The entry or measure that raised it")


def safety_notice(reason: SafetyReason, settings: Settings) -> Safety:
    return Safety(reason=reason, message=settings.helpline_text, helpline_url=settings.helpline_url)


def for_mood(mood: int, settings: Settings) -> Safety | None:
    return safety_notice(SafetyReason.low_mood, settings) if mood <= LOW_MOOD_THRESHOLD else None

"""Crisis resources the app shows at once when a write suggests the client may be at risk."""

from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.settings import Settings

LOW_MOOD_THRESHOLD = 1


class SafetyReason(StrEnum):
    low_mood = "low_mood"
    phq9_item9 = "phq9_item9"


class Safety(BaseModel):
    """Present only on the write that triggered it; the app should show it straight away."""

    reason: SafetyReason = Field(
        description="`low_mood`: an entry with mood ≤ 1; `phq9_item9`: a PHQ-9 whose item 9 "
        "(thoughts of self-harm) scored above 0"
    )
    message: str
    helpline_url: str


def safety_notice(reason: SafetyReason, settings: Settings) -> Safety:
    return Safety(reason=reason, message=settings.helpline_text, helpline_url=settings.helpline_url)


def for_mood(mood: int, settings: Settings) -> Safety | None:
    return safety_notice(SafetyReason.low_mood, settings) if mood <= LOW_MOOD_THRESHOLD else None

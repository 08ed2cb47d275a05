from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.emotions.vocabulary import INTERPERSONAL, STATE_OF_MIND

router = APIRouter(prefix="/v1/emotions", tags=["emotions"])


class EmotionLabelPublic(BaseModel):
    label: str
    source: Literal["state_of_mind", "interpersonal"]


class EmotionVocabulary(BaseModel):
    items: list[EmotionLabelPublic]
    next_cursor: None = None


_VOCABULARY = EmotionVocabulary(
    items=[EmotionLabelPublic(label=label, source="state_of_mind") for label in STATE_OF_MIND]
    + [EmotionLabelPublic(label=label, source="interpersonal") for label in INTERPERSONAL]
)


@router.get(
    "",
    summary="The emotion vocabulary offered by the app",
    description="Apple's 38 State of Mind labels plus six interpersonal ones. Entries may use "
    "other labels too: they are lower-cased and marked `custom`.",
)
async def list_emotions() -> EmotionVocabulary:
    return _VOCABULARY

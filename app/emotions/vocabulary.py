"""The emotion labels the app offers; any other label is accepted and marked custom."""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from app.models.base import NONBLANK_TEXT_PATTERN

# Apple's State of Mind labels.
STATE_OF_MIND = (
    "amazed", "amused", "angry", "annoyed", "anxious", "ashamed", "brave", "calm",
    "confident", "content", "disappointed", "discouraged", "disgusted", "drained",
    "embarrassed", "excited", "frustrated", "grateful", "guilty", "happy", "hopeful",
    "hopeless", "indifferent", "irritated", "jealous", "joyful", "lonely", "overwhelmed",
    "passionate", "peaceful", "proud", "relieved", "sad", "satisfied", "scared", "stressed",
    "surprised", "worried",
)  # fmt: skip
# Feelings that come up often in interpersonal work.
INTERPERSONAL = ("hurt", "rejected", "resentful", "loved", "supported", "misunderstood")

VOCABULARY = frozenset(STATE_OF_MIND + INTERPERSONAL)
MAX_LABEL_LENGTH = 40


def normalise_label(label: str) -> str:
    label = " ".join(label.split()).lower()
    if "\x00" in label or not 1 <= len(label) <= MAX_LABEL_LENGTH:
        raise ValueError(f"an emotion label has 1 to {MAX_LABEL_LENGTH} characters")
    return label


EmotionLabel = Annotated[
    str,
    # Up to 40 characters once spaces are collapsed; the raw value may carry a few more.
    StringConstraints(pattern=NONBLANK_TEXT_PATTERN, max_length=MAX_LABEL_LENGTH * 2),
    AfterValidator(normalise_label),
]


def is_custom(label: str) -> bool:
    return label not in VOCABULARY

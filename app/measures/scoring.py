"""PHQ-9 and GAD-7: item counts, totals and severity bands (scored here, never trusted)."""

from app.models.therapy import Instrument

ITEM_COUNT = {Instrument.phq9: 9, Instrument.gad7: 7}
MAX_ITEM_SCORE = 3

# (highest total in the band, band name), in ascending order.
SEVERITY_BANDS = {
    Instrument.phq9: (
        (4, "minimal"),
        (9, "mild"),
        (14, "moderate"),
        (19, "moderately_severe"),
        (27, "severe"),
    ),
    Instrument.gad7: ((4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")),
}
PHQ9_SELF_HARM_ITEM = 8  # item 9, zero-based


def answers_problem(instrument: Instrument, answers: list[int]) -> tuple[str, str] | None:
    """The first thing wrong with a set of answers, as (field suffix, message)."""
    expected = ITEM_COUNT[instrument]
    if len(answers) != expected:
        return "", f"{instrument.value} has {expected} items; got {len(answers)} answers"
    for index, answer in enumerate(answers):
        if not 0 <= answer <= MAX_ITEM_SCORE:
            return f".{index}", f"an answer is 0 to {MAX_ITEM_SCORE}"
    return None


def score(instrument: Instrument, answers: list[int]) -> tuple[int, str]:
    total = sum(answers)
    for highest, band in SEVERITY_BANDS[instrument]:
        if total <= highest:
            return total, band
    raise ValueError(f"total {total} is outside the {instrument.value} range")


def flags_self_harm(instrument: Instrument, answers: list[int]) -> bool:
    return instrument is Instrument.phq9 and answers[PHQ9_SELF_HARM_ITEM] > 0

"""The instrument registry: every questionnaire the service scores, in one place.

Validation, scoring, safety notices, summaries, the brief's charts and the FHIR export all
read these entries; adding an instrument is one entry here (and its tests). Answers are item
scores as the published scoring key gives them (EPDS items 3 and 5–10 already reversed), in
the questionnaire's order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.models.safety import SafetyReason
from app.models.therapy import Instrument

Answers = Sequence[int | None]


@dataclass(frozen=True, slots=True)
class Band:
    """A range of totals with its name: `code` in the API, `label` for people."""

    code: str
    lowest: int
    highest: int

    @property
    def label(self) -> str:
        return self.code.replace("_", " ")


@dataclass(frozen=True, slots=True)
class SafetyItem:
    """The item whose answer above 0 gets crisis resources shown and a safety event kept."""

    number: int  # one-based, as printed on the form
    meaning: str
    reason: SafetyReason

    @property
    def index(self) -> int:
        return self.number - 1


@dataclass(frozen=True, slots=True)
class Loinc:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    instrument: Instrument
    name: str
    measures: str  # what it measures, for the brief's headings
    items: int
    item_max: int  # every item is scored 0 … item_max
    bands: tuple[Band, ...]  # ascending, covering 0 … highest without gaps
    optional_items: frozenset[int] = frozenset()  # one-based items that may be null
    optional_because: str = ""
    safety_item: SafetyItem | None = None
    loinc_total: Loinc | None = None

    @property
    def code(self) -> str:
        return self.instrument.value

    @property
    def highest(self) -> int:
        return self.items * self.item_max

    def answers_problem(self, answers: Answers) -> tuple[str, str] | None:
        """The first thing wrong with a set of answers, as (field suffix, message)."""
        if len(answers) != self.items:
            return "", f"{self.code} has {self.items} items; got {len(answers)} answers"
        for index, answer in enumerate(answers):
            if answer is None:
                if index + 1 not in self.optional_items:
                    return f".{index}", f"item {index + 1} of {self.name} must be answered"
            elif not 0 <= answer <= self.item_max:
                return f".{index}", f"an answer of {self.name} is 0 to {self.item_max}"
        return None

    def score(self, answers: Answers) -> tuple[int, str]:
        """The total over the answered items and its band's code."""
        total = sum(answer for answer in answers if answer is not None)
        for band in self.bands:
            if total <= band.highest:
                return total, band.code
        raise ValueError(f"total {total} is outside the {self.name} range")

    def safety_answer(self, answers: Answers) -> int | None:
        """The safety item's answer; None for an instrument without one."""
        return None if self.safety_item is None else answers[self.safety_item.index]

    def flags_safety(self, answers: Answers) -> bool:
        return (self.safety_answer(answers) or 0) > 0


# Bands and items: Kroenke, Spitzer & Williams 2001 (PHQ-9); Spitzer et al. 2006 (GAD-7);
# Mundt et al. 2002 (WSAS); Cox, Holden & Sagovsky 1987 and the NHS/ACOG cut-offs (EPDS).
REGISTRY: dict[Instrument, InstrumentSpec] = {
    spec.instrument: spec
    for spec in (
        InstrumentSpec(
            instrument=Instrument.phq9,
            name="PHQ-9",
            measures="depression",
            items=9,
            item_max=3,
            bands=(
                Band("minimal", 0, 4),
                Band("mild", 5, 9),
                Band("moderate", 10, 14),
                Band("moderately_severe", 15, 19),
                Band("severe", 20, 27),
            ),
            safety_item=SafetyItem(9, "thoughts of self-harm", SafetyReason.phq9_item9),
            loinc_total=Loinc("44261-6", "PHQ-9 total score"),
        ),
        InstrumentSpec(
            instrument=Instrument.gad7,
            name="GAD-7",
            measures="anxiety",
            items=7,
            item_max=3,
            bands=(
                Band("minimal", 0, 4),
                Band("mild", 5, 9),
                Band("moderate", 10, 14),
                Band("severe", 15, 21),
            ),
            loinc_total=Loinc("70274-6", "GAD-7 total score"),
        ),
        InstrumentSpec(
            instrument=Instrument.epds,
            name="EPDS",
            measures="perinatal depression",
            items=10,
            item_max=3,
            bands=(
                Band("unlikely", 0, 9),
                Band("possible", 10, 12),
                Band("probable", 13, 30),
            ),
            safety_item=SafetyItem(10, "thoughts of harming oneself", SafetyReason.epds_item10),
            loinc_total=Loinc("99046-5", "EPDS total score"),
        ),
        InstrumentSpec(
            instrument=Instrument.wsas,
            name="WSAS",
            measures="work and social functioning",
            items=5,
            item_max=8,
            # Below 10: subclinical; 10–19: significant impairment; 20 and above: moderately
            # severe or worse. Item 1 (work) is left out for people not in work.
            bands=(
                Band("subclinical", 0, 9),
                Band("significant", 10, 19),
                Band("severe", 20, 40),
            ),
            optional_items=frozenset({1}),
            optional_because="item 1, about work, is null for people not in work",
        ),
    )
}

SAFETY_REASONS = {spec.safety_item.reason: spec for spec in REGISTRY.values() if spec.safety_item}


def spec_of(instrument: Instrument | str) -> InstrumentSpec:
    return REGISTRY[Instrument(instrument)]


def answers_described() -> str:
    """Each instrument's items, for the API's field descriptions."""
    return "; ".join(
        f"{spec.code}: {spec.items} items, each 0–{spec.item_max}"
        + (f" ({spec.optional_because})" if spec.optional_because else "")
        for spec in REGISTRY.values()
    )


def bands_described() -> str:
    """Each instrument's band codes, lowest first, for the API's field descriptions."""
    return "; ".join(
        f"{spec.code}: " + ", ".join(band.code for band in spec.bands) for spec in REGISTRY.values()
    )

"""Sample briefs for the rendering tests: a realistic one (ten weeks of a diary, ten sessions,
PHQ-9 and GAD-7, ten people compared, forty in the closeness circle) and its variants."""

import dataclasses
import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from app.reports.brief_data import (
    Brief,
    CirclePerson,
    DayMood,
    DueLine,
    EmotionCount,
    FocusAreaLine,
    IntervalLink,
    LowEntry,
    MeasurePoint,
    PersonComparison,
    SafetyItem,
    SessionMark,
)

LAST_DAY = date(2026, 12, 8)  # a Tuesday: session 10
FIRST_DAY = LAST_DAY - timedelta(weeks=1)  # session 9
WINDOW_FIRST_DAY = LAST_DAY - timedelta(weeks=10) + timedelta(days=1)
# Free text only the lowest-mood entries carry: never in a `summaries` share's brief.
CANARIES = ("CANARY-event-3b9d", "CANARY-said-51ce", "CANARY-felt-0a7f")
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    'Tom & "Jerry"',
    "$x$ and $5",
    "Jo 🙂🌻",
    "مريم",
    "<b>Ann</b> O'Neil",
)
_CLOCK = timezone(timedelta(hours=0))  # the entries' own clock: London in winter


def sessions() -> tuple[SessionMark, ...]:
    marks = []
    for number in range(1, 11):
        day = LAST_DAY - timedelta(weeks=10 - number)
        held_at = datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC)
        phase = "initial" if number <= 4 else "middle"
        marks.append(SessionMark(uuid.UUID(int=number), number, phase, held_at, day))
    return tuple(marks)


def days() -> tuple[DayMood, ...]:
    """56 days with entries in the 70 of the window, mood slowly rising, a dip in week 8."""
    rng = random.Random(7)
    skipped = set(rng.sample(range(70), 14))
    rows = []
    for offset in range(70):
        if offset in skipped:
            continue
        day = WINDOW_FIRST_DAY + timedelta(days=offset)
        trend = 3.5 + 3.0 * offset / 70 - (2.5 if 49 <= offset < 56 else 0)
        moods = [min(10, max(0, round(rng.gauss(trend, 1.4)))) for _ in range(rng.randint(1, 3))]
        rows.append(DayMood(day, len(moods), sum(moods) / len(moods), min(moods), max(moods)))
    return tuple(rows)


def measures() -> tuple[MeasurePoint, ...]:
    phq9 = [(19, 1), (17, 0), (16, 1), (12, 0), (10, 0), (9, 2)]
    gad7 = [14, 12, 9, 7]
    points = [
        MeasurePoint("phq9", LAST_DAY - timedelta(weeks=10 - 2 * i), total, _phq9(total), item9)
        for i, (total, item9) in enumerate(phq9)
    ]
    points += [
        MeasurePoint("gad7", LAST_DAY - timedelta(weeks=9 - 3 * i), total, _gad7(total), None)
        for i, total in enumerate(gad7)
    ]
    return tuple(sorted(points, key=lambda point: (point.day, point.instrument)))


def _phq9(total: int) -> str:
    bands = [(4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately severe")]
    return next((name for top, name in bands if total <= top), "severe")


def _gad7(total: int) -> str:
    bands = [(4, "minimal"), (9, "mild"), (14, "moderate")]
    return next((name for top, name in bands if total <= top), "severe")


PEOPLE = (
    # name, closeness, entries, mean with, mean without, delta, interval (None: too few)
    ("Sam", 1, 9, 6.1, 4.7, 1.4, (0.6, 2.2)),
    ("Mum", 1, 7, 3.9, 5.5, -1.6, (-2.9, -0.3)),
    ("Maria (sister)", 1, 6, 5.6, 5.0, 0.6, (-0.4, 1.6)),
    ("Tom from work", 2, 5, 4.6, 5.3, -0.7, (-2.1, 0.7)),
    ("Dr Okafor", 2, 4, 5.8, 5.1, 0.7, (-0.9, 2.3)),
    ("Priya", 2, 4, 6.0, 5.0, 1.0, (-0.2, 2.2)),
    ("Dad", 1, 3, 4.0, 5.3, -1.3, (-3.4, 0.8)),
    ("Neighbour Jean", 3, 2, 5.5, 5.2, None, None),
    ("Coach Ben", 3, 1, 7.0, 5.1, None, None),
    ("Aunt Li", 2, 1, 3.0, 5.3, None, None),
)


def people() -> tuple[PersonComparison, ...]:
    return tuple(
        PersonComparison(name, ring, n, with_, without, delta, interval, interval is not None)
        for name, ring, n, with_, without, delta, interval in PEOPLE
    )


QUALITY = {"Sam": 1.4, "Mum": -1.3, "Maria (sister)": 0.8, "Tom from work": -0.6,
           "Dr Okafor": 1.0, "Priya": 1.7, "Dad": -2.0, "Neighbour Jean": 0.0,
           "Coach Ben": 2.0, "Aunt Li": -0.5}  # fmt: skip
_MORE = (
    ("Grandma Rose", 1, "grandparent", True),
    ("Uncle Dev", 2, "other_family", False),
    ("Kim", 2, "friend", False),
    ("Alex", 2, "ex_partner", False),
    ("Cousin Aisha", 2, "other_family", False),
    ("Lena", 2, "friend", False),
    ("Mr Patel", 2, "manager", False),
    ("Hannah", 2, "friend", False),
)
_OUTER = (
    "Yusuf", "Carla", "Benji", "Mrs Moreau", "Ollie", "Fatima", "Greg", "Ines", "Noor",
    "Pastor Mike", "Sofia", "Theo", "Wren", "Zara", "Ivan the landlord", "Mei", "Rafael",
    "Grandpa Joe", "Bea",
    "Dr Lindqvist-Hargreaves",
    "Colleague Sarah",
    "Gym friend",
)  # fmt: skip
_RELATIONSHIPS = {"Sam": "partner", "Mum": "parent", "Dad": "parent", "Maria (sister)": "sibling",
                  "Tom from work": "colleague", "Dr Okafor": "health_professional",
                  "Priya": "friend", "Neighbour Jean": "neighbour", "Coach Ben": "other",
                  "Aunt Li": "other_family"}  # fmt: skip


def circle(names: tuple[str, ...] = ()) -> tuple[CirclePerson, ...]:
    """40 people: the 10 compared, 8 more close ones, 22 in the outer ring."""
    named = [
        CirclePerson(name, ring, _RELATIONSHIPS[name], False, n, QUALITY[name])
        for name, ring, n, *_ in PEOPLE
    ]
    rest = [CirclePerson(n, ring, rel, dead, 0, None) for n, ring, rel, dead in _MORE]
    rest += [
        CirclePerson(name, 3, "friend" if i % 3 else "other", name == "Grandpa Joe", 0, None)
        for i, name in enumerate(_OUTER)
    ]
    everyone = named + rest + [CirclePerson(n, 3, "other", False, 1, 0.5) for n in names]
    return tuple(sorted(everyone, key=lambda person: person.closeness))


def lowest_entries() -> tuple[LowEntry, ...]:
    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, 40, tzinfo=_CLOCK)

    return (
        LowEntry(
            at(FIRST_DAY + timedelta(days=2), 21),
            1,
            "conflict",
            f"Argument with Mum about moving out. {CANARIES[0]}\nI left early and cried.",
            ("Mum",),
            (
                ("What I said", f"That she never listens to me. {CANARIES[1]}"),
                ("What they said", "That I am ungrateful."),
                ("What I felt", f"Hurt, then guilty. {CANARIES[2]}"),
                ("What I could try", "Say what I need before it builds up."),
            ),
        ),
        LowEntry(
            at(FIRST_DAY + timedelta(days=4), 23),
            2,
            "isolation",
            "Nobody answered my messages all weekend.",
            (),
            (),
        ),
        LowEntry(
            at(FIRST_DAY + timedelta(days=5), 8),
            3,
            "conversation",
            "Talked to Tom about the rota. It went badly.",
            ("Tom from work", "Sam"),
            (("What happened", "He changed the subject."),),
        ),
    )


def intervals() -> tuple[IntervalLink, ...]:
    links = [IntervalLink(None, "Since session 10 (open)")]
    for mark in reversed(sessions()):
        links.append(IntervalLink(mark.id, f"Before session {mark.number}"))
    return tuple(links)


def brief() -> Brief:
    """The realistic brief: the interval between sessions 9 and 10, safety items in it."""
    marks = sessions()
    return Brief(
        client_name="Alex Morgan",
        timezone="Europe/London",
        generated_at=datetime(2026, 12, 8, 9, 15, tzinfo=UTC),
        session=marks[-1],
        previous=marks[-2],
        first_day=FIRST_DAY,
        last_day=LAST_DAY,
        focus_areas=(
            FocusAreaLine("Arguments with Mum", "role_dispute", "stage: impasse"),
            FocusAreaLine("Starting nursing school", "role_transition", "student → nurse"),
        ),
        safety=(
            SafetyItem("low_mood", FIRST_DAY + timedelta(days=2), "mood 1 of 10"),
            SafetyItem("low_mood", FIRST_DAY + timedelta(days=3), "mood 0 of 10"),
            SafetyItem("phq9_item9", LAST_DAY, "item 9 answered 2 of 3"),
        ),
        entries=11,
        mean_mood=4.2,
        mean_mood_change=-1.4,
        window_first_day=WINDOW_FIRST_DAY,
        days=days(),
        sessions=marks,
        people=people(),
        measures=measures(),
        due=(
            DueLine("PHQ-9", "sessions", LAST_DAY - timedelta(weeks=2), 4, 14),
            DueLine("WSAS", "never_completed", None, 10, None),
        ),
        circle=circle(),
        emotions=(
            EmotionCount("anxious", 7, 6.4),
            EmotionCount("hurt", 5, 7.2),
            EmotionCount("lonely", 4, 5.5),
            EmotionCount("hopeful", 3, 4.0),
            EmotionCount("supported", 2, 6.5),
        ),
        lowest_entries=lowest_entries(),
        intervals=intervals(),
    )


def without_safety() -> Brief:
    return dataclasses.replace(brief(), safety=())


def without_measures() -> Brief:
    return dataclasses.replace(brief(), measures=())


def summaries_share() -> Brief:
    """What a `summaries` share sees: the same numbers, no entry text."""
    return dataclasses.replace(brief(), lowest_entries=None)


def open_interval() -> Brief:
    """After the latest session: no session ends it yet."""
    full = brief()
    return dataclasses.replace(full, session=None, previous=full.sessions[-1])


def hostile() -> Brief:
    """Names and text that would be markup, math text or bidirectional if not escaped."""
    full = brief()
    names = HOSTILE_NAMES + tuple(person.name for person in full.people[len(HOSTILE_NAMES) :])
    people = tuple(
        dataclasses.replace(person, name=name)
        for person, name in zip(full.people, names, strict=True)
    )
    return dataclasses.replace(
        full,
        client_name="<script>alert(1)</script> & Co",
        people=people,
        circle=circle(HOSTILE_NAMES),
        focus_areas=(FocusAreaLine("</style><style>*{display:none}", "grief", None),),
        emotions=(EmotionCount("<i>custom</i>", 1, 5.0),),
        lowest_entries=(
            LowEntry(
                datetime(2026, 12, 3, 21, 0, tzinfo=_CLOCK),
                1,
                "other",
                '<img src="https://evil.example/x" onerror="alert(1)"> & $x$',
                HOSTILE_NAMES,
                (("What I said", "<a href='//evil.example'>link</a>"),),
            ),
        ),
    )

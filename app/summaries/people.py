"""How mood goes with each person: mean mood with them and without them, the difference
with its 95% interval, and the emotions felt in the entries that name them."""

import uuid
from typing import Any

from sqlalchemy import and_, case, func, literal_column, null, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql import CompoundSelect, Select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, EntryEmotion, EntryPerson, Person
from app.summaries.schemas import Baseline, EmotionStat, MoodByPerson, PersonMood
from app.summaries.statements import (
    Bytewise,
    Shape,
    emotion_conditions,
    entry_conditions,
    execute,
    per_person_totals,
    ratio,
)
from app.summaries.statistics import enough, welch_interval

TOP_EMOTIONS = 5


def _people_and_baseline(scope: OwnerScope, shape: Shape) -> CompoundSelect[Any]:
    """One row for the baseline (all scoped entries in the range: count, mood sum and sum
    of squares), first, then one per person: the people's rows carry kind 1, the
    baseline's kind 0."""
    per_person = per_person_totals(scope, shape)
    named = func.coalesce(per_person.c.entries, 0)
    people = (
        sa_select(
            literal_column("1").label("kind"),
            col(Person.id).label("id"),
            col(Person.name).label("name"),
            col(Person.closeness).label("closeness"),
            named.label("entries"),
            func.coalesce(per_person.c.mood_sum, 0).label("mood_sum"),
            func.coalesce(per_person.c.mood_squares, 0).label("mood_squares"),
            per_person.c.quality_sum.label("quality_sum"),
            per_person.c.qualities.label("qualities"),
        )
        .outerjoin(per_person, per_person.c.person_id == col(Person.id))
        .where(
            *scope.conditions(Person),
            or_(col(Person.archived_at).is_(None), per_person.c.entries > 0),
        )
    )
    # Second, so that the result's column types (a UUID, the ciphertext) are the people's.
    mood = col(Entry.mood)
    columns: list[ColumnElement[Any]] = [
        literal_column("0"),
        null(),
        null(),
        null(),
        func.count(),
        func.coalesce(func.sum(mood), 0),
        func.coalesce(func.sum(mood * mood), 0),
        null(),
        null(),
    ]
    baseline = sa_select(*columns).where(*entry_conditions(scope, shape))
    both = union_all(people, baseline)
    ordered = both.selected_columns
    return both.order_by(ordered.kind, ordered.entries.desc(), ordered.id)


_PEOPLE_AND_BASELINE = OwnerStatement(_people_and_baseline)


def _top_emotions(scope: OwnerScope, shape: Shape) -> Select[Any]:
    # An emotion about one person counts for that person (always one of its entry's
    # people); one about nobody in particular counts for every person its entry names.
    person_id = func.coalesce(col(EntryEmotion.person_id), col(EntryPerson.person_id))
    # Only the latter look their entry's people up: a NULL key finds no row without a
    # search (as a separate ON condition, SQLite would search, then discard the rows).
    entry_of_emotion_about_nobody = case(
        (col(EntryEmotion.person_id).is_(None), col(EntryEmotion.entry_id))
    )
    label = Bytewise(col(EntryEmotion.label))
    per_label = (
        sa_select(
            person_id.label("person_id"),
            label.label("label"),
            func.count().label("count"),
            func.sum(col(EntryEmotion.intensity)).label("intensity_sum"),
        )
        .select_from(EntryEmotion)
        .outerjoin(
            EntryPerson,
            and_(
                col(EntryPerson.owner_id) == col(EntryEmotion.owner_id),
                col(EntryPerson.entry_id) == entry_of_emotion_about_nobody,
            ),
        )
        .where(*emotion_conditions(scope, shape), person_id.is_not(None))
        .group_by(person_id, label)
        .subquery()
    )
    ranked = sa_select(
        per_label,
        func.row_number()
        .over(
            partition_by=per_label.c.person_id,
            order_by=(per_label.c.count.desc(), per_label.c.label),
        )
        .label("rank"),
    ).subquery()
    return (
        sa_select(ranked.c.person_id, ranked.c.label, ranked.c.count, ranked.c.intensity_sum)
        .where(ranked.c.rank <= TOP_EMOTIONS)
        .order_by(ranked.c.person_id, ranked.c.rank)
    )


_TOP_EMOTIONS = OwnerStatement(_top_emotions)


def _top_emotions_per_person(
    session: Session, scope: OwnerScope, time_range: TimeRange
) -> dict[uuid.UUID, list[EmotionStat]]:
    found: dict[uuid.UUID, list[EmotionStat]] = {}
    for person, label, count, intensity_sum in execute(session, _TOP_EMOTIONS, scope, time_range):
        # Exactly avg(): a sum of integers, divided once (correctly rounded either way).
        found.setdefault(person, []).append(
            EmotionStat(label=label, count=count, mean_intensity=intensity_sum / count)
        )
    return found


def mood_by_person(session: Session, scope: OwnerScope, time_range: TimeRange) -> MoodByPerson:
    rows = execute(session, _PEOPLE_AND_BASELINE, scope, time_range).all()
    _, _, _, _, count, mood_sum, mood_squares, _, _ = rows[0]
    emotions = _top_emotions_per_person(session, scope, time_range)

    people = []
    for row in rows[1:]:
        _, person_id, name, closeness, named, named_sum, named_squares, qualities_sum, rated = row
        others = count - named
        mean, without = ratio(named_sum, named), ratio(mood_sum - named_sum, others)
        people.append(
            PersonMood(
                person_id=person_id,
                name=decrypt_column(session, Person, "name", scope.owner_id, person_id, name),
                closeness=closeness,
                entries=named,
                mean_mood=mean,
                mean_mood_without=without,
                delta=mean - without if mean is not None and without is not None else None,
                delta_ci95=welch_interval(
                    named,
                    named_sum,
                    named_squares,
                    others,
                    mood_sum - named_sum,
                    mood_squares - named_squares,
                ),
                enough=enough(named, others),
                mean_quality=ratio(qualities_sum, rated),
                top_emotions=emotions.get(person_id, []),
            )
        )
    return MoodByPerson(
        timezone=scope.timezone,
        baseline=Baseline(entries=count, mean_mood=ratio(mood_sum, count)),
        people=people,
    )

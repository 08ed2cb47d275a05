"""Diary entries: what happened, with whom, how it felt.

Every answer that carries an entry is its JSON as the projection writes it
(app/entries/projection.py), the answers to writes included.
"""

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, bindparam, exists, insert
from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, select

from app.core import crud
from app.core.concurrency import check_if_match
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import after_cursor, cursor_parameters, trimmed_page
from app.core.responses import fragments
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.settings import Settings
from app.core.timerange import TimeRange
from app.emotions.vocabulary import is_custom
from app.entries.projection import EntryWriter, entry_key, entry_rows, version_of
from app.entries.schemas import (
    EmotionIn,
    EntryCreate,
    EntryPersonIn,
    EntryUpdate,
    emotion_people_problem,
)
from app.models.diary import Entry, EntryEmotion, EntryPerson, FocusArea, Person, wall_clock
from app.models.safety import SafetyReason
from app.safety import service as safety
from app.safety.schemas import Safety, for_mood


@dataclass(frozen=True, slots=True)
class EntryFilters:
    occurred: TimeRange = field(default_factory=TimeRange)
    person_id: uuid.UUID | None = None
    focus_area_id: uuid.UUID | None = None
    emotion: str | None = None
    mood_min: int | None = None
    mood_max: int | None = None


@dataclass(frozen=True, slots=True)
class EntryJson:
    """An entry as the API writes it (EntryPublic's JSON), and its version for the ETag."""

    body: bytes
    version: int


# --- statements ---------------------------------------------------------------------------

_FOCUS_AREA = OwnerStatement(
    lambda scope: select(FocusArea.id).where(
        *scope.conditions(FocusArea), col(FocusArea.id) == bindparam("focus_area_id")
    )
)
_PEOPLE = OwnerStatement(
    lambda scope: select(Person.id, Person.archived_at).where(
        *scope.conditions(Person), col(Person.id).in_(bindparam("person_ids", expanding=True))
    )
)
_ENTRY_PEOPLE = OwnerStatement(
    lambda scope: select(EntryPerson.person_id, EntryPerson.quality).where(
        *scope.conditions(EntryPerson), col(EntryPerson.entry_id) == bindparam("entry_id")
    )
)
_ENTRY_EMOTIONS = OwnerStatement(
    lambda scope: (
        select(EntryEmotion.label, EntryEmotion.intensity, EntryEmotion.person_id)
        .where(*scope.conditions(EntryEmotion), col(EntryEmotion.entry_id) == bindparam("entry_id"))
        .order_by(col(EntryEmotion.position))
    )
)
_ENTRY = OwnerStatement(
    lambda scope: entry_rows(scope).where(col(Entry.id) == bindparam("entry_id"))
)
_ENTRIES = OwnerStatement(
    lambda scope: entry_rows(scope).where(col(Entry.id).in_(bindparam("entry_ids", expanding=True)))
)

# The list's filters, each a condition on a named bound parameter: the list statement is
# prepared once per set of filters used, and only the values change per request.
_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "filter_from": lambda: col(Entry.occurred_at) >= bindparam("filter_from"),
    "filter_to": lambda: col(Entry.occurred_at) < bindparam("filter_to"),
    "filter_focus_area_id": lambda: col(Entry.focus_area_id) == bindparam("filter_focus_area_id"),
    "filter_mood_min": lambda: col(Entry.mood) >= bindparam("filter_mood_min"),
    "filter_mood_max": lambda: col(Entry.mood) <= bindparam("filter_mood_max"),
    "filter_person_id": lambda: exists().where(
        col(EntryPerson.owner_id) == col(Entry.owner_id),
        col(EntryPerson.entry_id) == col(Entry.id),
        col(EntryPerson.person_id) == bindparam("filter_person_id"),
    ),
    "filter_emotion": lambda: exists().where(
        col(EntryEmotion.owner_id) == col(Entry.owner_id),
        col(EntryEmotion.entry_id) == col(Entry.id),
        col(EntryEmotion.label) == bindparam("filter_emotion"),
    ),
}
_AFTER = "after"  # the page starts after the (occurred_at, id) of the cursor


def _page(scope: OwnerScope, names: frozenset[str]) -> Select[Any]:
    """A page of entries, newest first, with the filters `names`. The page is chosen by id
    in a subquery, so only its rows are written as JSON: a plan that sorts the matching
    entries (an index on the filter rather than on the order) would otherwise write every
    one of them before keeping a page."""
    occurred_at, entry_id = col(Entry.occurred_at), col(Entry.id)
    newest_first = (occurred_at.desc(), entry_id.desc())
    limit = bindparam("page_limit", type_=Integer())
    conditions = [condition() for name, condition in _FILTERS.items() if name in names]
    ids = select(entry_id).where(*scope.conditions(Entry), *conditions)
    if _AFTER in names:
        ids = ids.where(after_cursor(occurred_at, entry_id, newest_first=True))
    page = ids.order_by(*newest_first).limit(limit).correlate(None)
    return entry_rows(scope).where(entry_id.in_(page)).order_by(*newest_first).limit(limit)


_PAGE = OwnerStatement(_page)


# --- reads ---------------------------------------------------------------------------------


def get_json(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> EntryJson:
    """The entry as the API writes it, and its version."""
    return _answer(session, scope, entry_id)


def page(
    session: Session, scope: OwnerScope, filters: EntryFilters, *, limit: int, cursor: str | None
) -> bytes:
    """A page of entries (Page[EntryPublic]'s JSON), newest first: the client's list and,
    with a scope that leaves private entries out, the therapist's."""
    values = {
        "filter_from": filters.occurred.start,
        "filter_to": filters.occurred.end,
        "filter_focus_area_id": filters.focus_area_id,
        "filter_mood_min": filters.mood_min,
        "filter_mood_max": filters.mood_max,
        "filter_person_id": filters.person_id,
        "filter_emotion": filters.emotion,
    }
    params = {name: value for name, value in values.items() if value is not None}
    names = frozenset(params) | ({_AFTER} if cursor is not None else frozenset())
    if cursor is not None:
        params.update(cursor_parameters(cursor))
    statement, owner = _PAGE.bind(scope, names)
    connection = session.connection()
    fetched = connection.execute(statement, {**owner, **params, "page_limit": limit + 1}).all()
    rows, next_cursor = trimmed_page(list(fetched), limit, entry_key)
    writer = EntryWriter(session, scope)
    items = fragments([writer.json(row) for row in rows])
    return orjson.dumps({"items": items, "next_cursor": next_cursor})


def by_ids(session: Session, scope: OwnerScope, ids: Sequence[uuid.UUID]) -> list[bytes]:
    """The entries among `ids` the scope may see, as the API writes them, in `ids` order."""
    if not ids:
        return []
    statement, owner = _ENTRIES.bind(scope)
    rows = session.connection().execute(statement, {**owner, "entry_ids": list(ids)}).all()
    position = {str(entry_id): index for index, entry_id in enumerate(ids)}
    writer = EntryWriter(session, scope)
    return [writer.json(row) for row in sorted(rows, key=lambda row: position[row[1]])]


def _answer(
    session: Session, scope: OwnerScope, entry_id: uuid.UUID, safety: Safety | None = None
) -> EntryJson:
    """The entry as the API writes it; a write's answer with the crisis resources its mood
    calls for (`safety`)."""
    statement, owner = _ENTRY.bind(scope)
    row = session.connection().execute(statement, {**owner, "entry_id": entry_id}).first()
    if row is None:
        # The same answer whether the id is unknown or belongs to someone else.
        raise NotFound(f"No entry with id {entry_id}")
    return EntryJson(EntryWriter(session, scope).json(row, safety), version_of(row))


# --- writes --------------------------------------------------------------------------------


def _check_focus_area(session: Session, scope: OwnerScope, focus_area_id: uuid.UUID | None) -> None:
    if focus_area_id is None:
        return
    statement, owner = _FOCUS_AREA.bind(scope)
    if session.exec(statement, params={**owner, "focus_area_id": focus_area_id}).first() is None:
        # Same answer for an unknown id and another client's: nothing is revealed.
        raise ValidationFailed.for_field(
            "body.focus_area_id", f"no focus area with id {focus_area_id}"
        )


def _check_people(
    session: Session,
    scope: OwnerScope,
    people: Sequence[EntryPersonIn],
    already_named: Collection[uuid.UUID] = (),
) -> None:
    ids = [p.person_id for p in people]
    if not ids:
        return
    statement, owner = _PEOPLE.bind(scope)
    archived = dict(session.exec(statement, params={**owner, "person_ids": ids}).all())
    for index, person_id in enumerate(ids):
        where = f"body.people.{index}.person_id"
        if person_id not in archived:
            raise ValidationFailed.for_field(where, f"no person with id {person_id}")
        if archived[person_id] is not None and person_id not in already_named:
            raise ValidationFailed.for_field(where, "this person is archived")


def _check_emotions_name_entry_people(
    people: Sequence[EntryPersonIn], emotions: Sequence[EmotionIn]
) -> None:
    problem = emotion_people_problem(list(people), list(emotions))
    if problem:
        raise ValidationFailed.for_field(f"body.{problem[0]}", problem[1])


def _write_children(
    session: Session,
    scope: OwnerScope,
    entry_id: uuid.UUID,
    people: Sequence[EntryPersonIn],
    emotions: Sequence[EmotionIn],
) -> None:
    if people:
        session.execute(
            insert(EntryPerson),
            [
                {
                    "owner_id": scope.owner_id,
                    "entry_id": entry_id,
                    "person_id": p.person_id,
                    "quality": p.quality,
                }
                for p in people
            ],
        )
    if emotions:
        session.execute(
            insert(EntryEmotion),
            [
                {
                    "owner_id": scope.owner_id,
                    "entry_id": entry_id,
                    "position": position,
                    "label": e.label,
                    "intensity": e.intensity,
                    "person_id": e.person_id,
                    "custom": is_custom(e.label),
                }
                for position, e in enumerate(emotions)
            ],
        )


def _delete_children(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> None:
    for model in (EntryEmotion, EntryPerson):
        session.execute(
            sql_delete(model).where(*scope.conditions(model), col(model.entry_id) == entry_id)
        )


def create(session: Session, scope: OwnerScope, data: EntryCreate, settings: Settings) -> EntryJson:
    _check_emotions_name_entry_people(data.people, data.emotions)
    _check_focus_area(session, scope, data.focus_area_id)
    _check_people(session, scope, data.people)
    values = data.model_dump(exclude={"id", "people", "emotions"}) | wall_clock(data.occurred_at)
    entry = scope.new_row(Entry, values, data.id)
    crud.insert(session, entry, f"You already have an entry with id {data.id}")
    _write_children(session, scope, entry.id, data.people, data.emotions)
    return _answer(session, scope, entry.id, _notice(session, scope, entry, settings))


def _named_people(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> list[EntryPersonIn]:
    statement, owner = _ENTRY_PEOPLE.bind(scope)
    rows = session.connection().execute(statement, {**owner, "entry_id": entry_id})
    return [EntryPersonIn(person_id=person_id, quality=quality) for person_id, quality in rows]


def _felt_emotions(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> list[EmotionIn]:
    statement, owner = _ENTRY_EMOTIONS.bind(scope)
    rows = session.connection().execute(statement, {**owner, "entry_id": entry_id})
    return [
        EmotionIn(label=label, intensity=intensity, person_id=person_id)
        for label, intensity, person_id in rows
    ]


def update(
    session: Session,
    scope: OwnerScope,
    entry_id: uuid.UUID,
    changes: EntryUpdate,
    if_match: str | None,
    settings: Settings,
) -> EntryJson:
    entry = scope.get(session, Entry, entry_id, "entry")
    check_if_match(if_match, entry)  # before validating: a stale edit is 412 whatever it says
    sent = changes.model_fields_set
    new_people, new_emotions = "people" in sent, "emotions" in sent
    if new_people or new_emotions:
        # The lists are replaced whole; the one not sent stays, and must still agree.
        named = _named_people(session, scope, entry_id)
        people = changes.people if new_people else named
        emotions = changes.emotions if new_emotions else _felt_emotions(session, scope, entry_id)
        _check_emotions_name_entry_people(people, emotions)
        if new_people:
            _check_people(session, scope, people, already_named={p.person_id for p in named})
    if "focus_area_id" in sent:
        _check_focus_area(session, scope, changes.focus_area_id)

    values = changes.model_dump(exclude_unset=True, exclude={"people", "emotions"})
    if "occurred_at" in values:
        values |= wall_clock(values["occurred_at"])
    crud.update(session, entry, if_match, values)
    if new_people or new_emotions:
        _delete_children(session, scope, entry.id)
        _write_children(session, scope, entry.id, people, emotions)
    return _answer(session, scope, entry.id, _notice(session, scope, entry, settings))


def _notice(session: Session, scope: OwnerScope, entry: Entry, settings: Settings) -> Safety | None:
    """The crisis resources a written entry's mood calls for, kept as a safety event."""
    notice = for_mood(entry.mood, settings)
    if notice is not None:
        safety.record(session, scope, SafetyReason.low_mood, entry_id=entry.id)
    return notice


def delete(session: Session, scope: OwnerScope, entry_id: uuid.UUID, if_match: str | None) -> None:
    entry = scope.get(session, Entry, entry_id, "entry")
    check_if_match(if_match, entry)
    safety.forget(session, scope, entry_id=entry.id)
    crud.delete(session, entry, if_match)

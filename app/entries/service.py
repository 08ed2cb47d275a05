"""Diary entries: what happened, with whom, how it felt."""

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, bindparam, exists, insert
from sqlalchemy import Select as CoreSelect
from sqlalchemy import delete as sql_delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from app.core import crud
from app.core.concurrency import check_if_match
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import after_cursor, cursor_parameters, keyset_page, trimmed_page
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.emotions.vocabulary import is_custom
from app.entries import json_text, reads
from app.entries.schemas import (
    Communication,
    EmotionIn,
    EmotionPublic,
    EntryCreate,
    EntryPersonIn,
    EntryPersonPublic,
    EntryPublic,
    EntryUpdate,
    emotion_people_problem,
)
from app.models.diary import Entry, EntryEmotion, EntryPerson, FocusArea, Person


@dataclass(frozen=True, slots=True)
class EntryFilters:
    occurred: TimeRange = field(default_factory=TimeRange)
    person_id: uuid.UUID | None = None
    focus_area_id: uuid.UUID | None = None
    emotion: str | None = None
    mood_min: int | None = None
    mood_max: int | None = None


def _focus_area_by_id(scope: OwnerScope) -> SelectOfScalar[uuid.UUID]:
    return select(FocusArea.id).where(
        *scope.conditions(FocusArea), col(FocusArea.id) == bindparam("focus_area_id")
    )


def _people_by_ids(scope: OwnerScope) -> Select[uuid.UUID, datetime | None]:
    return select(Person.id, Person.archived_at).where(
        *scope.conditions(Person), col(Person.id).in_(bindparam("person_ids", expanding=True))
    )


def _check_focus_area(session: Session, scope: OwnerScope, focus_area_id: uuid.UUID | None) -> None:
    if focus_area_id is None:
        return
    stmt, params = scope.prepared(_focus_area_by_id)
    if session.exec(stmt, params={**params, "focus_area_id": focus_area_id}).first() is None:
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
    stmt, params = scope.prepared(_people_by_ids)
    archived = dict(session.exec(stmt, params={**params, "person_ids": ids}).all())
    for index, person_id in enumerate(ids):
        field = f"body.people.{index}.person_id"
        if person_id not in archived:
            raise ValidationFailed.for_field(field, f"no person with id {person_id}")
        if archived[person_id] is not None and person_id not in already_named:
            raise ValidationFailed.for_field(field, "this person is archived")


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


def written(
    entry: Entry, people: Sequence[EntryPersonIn], emotions: Sequence[EmotionIn]
) -> EntryPublic:
    """An entry just written, as the API shows it: from the row and what was sent."""
    return EntryPublic.model_construct(
        **{name: getattr(entry, name) for name in reads.ENTRY_FIELDS},
        people=[
            EntryPersonPublic.model_construct(person_id=p.person_id, quality=p.quality)
            for p in sorted(people, key=lambda p: p.person_id)
        ],
        emotions=[
            EmotionPublic.model_construct(
                label=e.label,
                intensity=e.intensity,
                person_id=e.person_id,
                custom=is_custom(e.label),
            )
            for e in emotions
        ],
        communication=(
            None if entry.communication is None else Communication(**entry.communication)
        ),
    )


def _check_emotions_name_entry_people(
    people: Sequence[EntryPersonIn], emotions: Sequence[EmotionIn]
) -> None:
    problem = emotion_people_problem(list(people), list(emotions))
    if problem:
        raise ValidationFailed.for_field(f"body.{problem[0]}", problem[1])


def create(session: Session, scope: OwnerScope, data: EntryCreate) -> EntryPublic:
    _check_emotions_name_entry_people(data.people, data.emotions)
    _check_focus_area(session, scope, data.focus_area_id)
    _check_people(session, scope, data.people)
    entry = scope.new_row(Entry, data.model_dump(exclude={"id", "people", "emotions"}), data.id)
    crud.insert(session, entry, f"You already have an entry with id {data.id}")
    _write_children(session, scope, entry.id, data.people, data.emotions)
    return written(entry, data.people, data.emotions)


def get(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> EntryPublic:
    found = reads.by_id(session, scope, entry_id)
    if found is None:
        # The same answer whether the id is unknown or belongs to someone else.
        raise NotFound(f"No entry with id {entry_id}")
    return found


# The list's filters, each a condition on a named bound parameter: the list statement is
# prepared once per dialect and set of filters used, and only the values change per request.
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


def _filter_values(filters: EntryFilters) -> dict[str, Any]:
    """The filters set, by the name of their parameter."""
    values = {
        "filter_from": filters.occurred.start,
        "filter_to": filters.occurred.end,
        "filter_focus_area_id": filters.focus_area_id,
        "filter_mood_min": filters.mood_min,
        "filter_mood_max": filters.mood_max,
        "filter_person_id": filters.person_id,
        "filter_emotion": filters.emotion,
    }
    return {name: value for name, value in values.items() if value is not None}


def _filter_conditions(names: Collection[str]) -> list[ColumnElement[bool]]:
    return [condition() for name, condition in _FILTERS.items() if name in names]


def page(
    session: Session, scope: OwnerScope, filters: EntryFilters, *, limit: int, cursor: str | None
) -> tuple[list[EntryPublic], str | None]:
    # The page's ids first (a small statement built per request, whatever the filters), then
    # the entries themselves by a prepared statement.
    values = _filter_values(filters)
    stmt = (
        sa_select(col(Entry.id), col(Entry.occurred_at))
        .where(*scope.conditions(Entry), *_filter_conditions(values))
        .params(values)
    )
    rows, next_cursor = keyset_page(
        session,
        stmt,
        col(Entry.occurred_at),
        col(Entry.id),
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return reads.by_ids(session, scope, [row.id for row in rows]), next_cursor


def get_json(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> json_text.EntryJson:
    """The entry as the API writes it (EntryPublic's JSON), and its version."""
    found = json_text.json_by_id(session, scope, entry_id)
    if found is None:
        # The same answer whether the id is unknown or belongs to someone else.
        raise NotFound(f"No entry with id {entry_id}")
    return found


_AFTER = "after"  # the page starts after the (occurred_at, id) of the cursor
_JSON_PAGES: dict[tuple[str, frozenset[str]], Callable[[OwnerScope], CoreSelect[Any]]] = {}


def _json_page(dialect: str, names: frozenset[str], scope: OwnerScope) -> CoreSelect[Any]:
    """The page's JSON rows. The page is chosen by id in a subquery, so only its rows are
    written as JSON: a plan that sorts the matching entries (an index on the filter rather
    than on the order) would otherwise write every one of them before keeping a page."""
    occurred_at, entry_id = col(Entry.occurred_at), col(Entry.id)
    newest_first = (occurred_at.desc(), entry_id.desc())
    limit = bindparam("page_limit", type_=Integer())
    ids = sa_select(entry_id).where(*scope.conditions(Entry), *_filter_conditions(names))
    if _AFTER in names:
        ids = ids.where(after_cursor(occurred_at, entry_id, newest_first=True))
    page = ids.order_by(*newest_first).limit(limit).correlate(None)
    return (
        json_text.select_json(dialect, scope)
        .where(entry_id.in_(page))
        .order_by(*newest_first)
        .limit(limit)
    )


def _json_row_key(row: Any) -> tuple[datetime, uuid.UUID]:
    entry = orjson.loads(row[0])  # the free text is not needed: its slots are null
    return datetime.fromisoformat(entry["occurred_at"]), uuid.UUID(entry["id"])


def page_json(
    session: Session, scope: OwnerScope, filters: EntryFilters, *, limit: int, cursor: str | None
) -> bytes:
    """`page` as the API writes it: Page[EntryPublic]'s JSON, read in one prepared statement
    per set of filters (newest first, with `keyset_page`'s cursors)."""
    params = _filter_values(filters)
    names = frozenset(params) | ({_AFTER} if cursor is not None else frozenset())
    if cursor is not None:
        params.update(cursor_parameters(cursor))
    connection = session.connection()
    key = (connection.dialect.name, names)
    build = _JSON_PAGES.get(key) or _JSON_PAGES.setdefault(key, partial(_json_page, *key))
    stmt, owner = scope.prepared(build)
    fetched = connection.execute(stmt, {**owner, **params, "page_limit": limit + 1}).all()
    rows, next_cursor = trimmed_page(list(fetched), limit, _json_row_key)
    return b'{"items":[%s],"next_cursor":%s}' % (
        b",".join(json_text.json_entries(session, scope, rows)),
        orjson.dumps(next_cursor),
    )


def update(
    session: Session,
    scope: OwnerScope,
    entry_id: uuid.UUID,
    changes: EntryUpdate,
    if_match: str | None,
) -> EntryPublic:
    entry = scope.get(session, Entry, entry_id, "entry")
    check_if_match(if_match, entry)  # before validating: a stale edit is 412 whatever it says
    sent = changes.model_fields_set
    current = get(session, scope, entry_id)
    people = (
        changes.people
        if "people" in sent
        else [EntryPersonIn(person_id=p.person_id, quality=p.quality) for p in current.people]
    )
    emotions = (
        changes.emotions
        if "emotions" in sent
        else [
            EmotionIn(label=e.label, intensity=e.intensity, person_id=e.person_id)
            for e in current.emotions
        ]
    )
    _check_emotions_name_entry_people(people, emotions)
    if "focus_area_id" in sent:
        _check_focus_area(session, scope, changes.focus_area_id)
    if "people" in sent:
        _check_people(session, scope, people, already_named={p.person_id for p in current.people})

    values = changes.model_dump(exclude_unset=True, exclude={"people", "emotions"})
    crud.update(session, entry, if_match, values)
    if "people" in sent or "emotions" in sent:
        _delete_children(session, scope, entry.id)
        _write_children(session, scope, entry.id, people, emotions)
    return written(entry, people, emotions)


def delete(session: Session, scope: OwnerScope, entry_id: uuid.UUID, if_match: str | None) -> None:
    entry = scope.get(session, Entry, entry_id, "entry")
    crud.delete(session, entry, if_match)

"""Import a JSON export: the whole document is checked before a single row is written."""

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app.core.errors import InvalidField, ValidationFailed
from app.core.scoping import OwnerScope
from app.emotions.vocabulary import is_custom
from app.entries.schemas import emotion_people_problem
from app.export.schemas import (
    ExportDocument,
    ImportCounts,
    ImportedEntry,
    ImportedReminder,
    ImportResult,
)
from app.focus_areas.schemas import problem_area_mismatch
from app.measures.instruments import spec_of
from app.models.diary import (
    Entry,
    EntryEmotion,
    EntryPerson,
    FocusArea,
    FocusAreaPerson,
    FocusStatus,
    Person,
    wall_clock,
)
from app.models.reminders import Reminder
from app.models.therapy import Measure, TherapySession
from app.reminders import recurrence
from app.reminders.service import MAX_REMINDERS
from app.sessions.schemas import phase_for

MAX_ACTIVE_FOCUS_AREAS = 2


def _existing(
    session: Session, scope: OwnerScope, model: type[Any], ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = list(ids)
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.exec(
                select(model.id).where(
                    *scope.conditions(model), col(model.id).in_(wanted[start : start + 500])
                )
            ).all()
        )
    return found


def _problems(session: Session, scope: OwnerScope, document: ExportDocument) -> list[InvalidField]:
    problems: list[InvalidField] = []

    def refuse(field: str, message: str) -> None:
        problems.append(InvalidField(field=f"body.{field}", message=message, type="value_error"))

    people = {p.id for p in document.people} | _existing(
        session,
        scope,
        Person,
        {pid for e in document.entries for pid in (p.person_id for p in e.people)}
        | {pid for area in document.focus_areas for pid in area.person_ids},
    )
    areas = {a.id for a in document.focus_areas} | _existing(
        session, scope, FocusArea, {e.focus_area_id for e in document.entries if e.focus_area_id}
    )
    for index, area in enumerate(document.focus_areas):
        mismatch = problem_area_mismatch(
            area.problem_area, area.dispute_stage, area.from_role, area.to_role
        )
        if mismatch:
            refuse(f"focus_areas.{index}.{mismatch[0]}", mismatch[1])
        for n, person_id in enumerate(area.person_ids):
            if person_id not in people:
                refuse(f"focus_areas.{index}.person_ids.{n}", f"no person with id {person_id}")
    new_active = {a.id for a in document.focus_areas if a.status is FocusStatus.active}
    already_active = session.exec(
        select(func.count()).where(
            *scope.conditions(FocusArea),
            col(FocusArea.status) == FocusStatus.active,
            col(FocusArea.id).not_in(new_active or {uuid.UUID(int=0)}),
        )
    ).one()
    if already_active + len(new_active) > MAX_ACTIVE_FOCUS_AREAS:
        refuse("focus_areas", f"would leave more than {MAX_ACTIVE_FOCUS_AREAS} focus areas active")
    numbers = dict(
        session.exec(
            select(TherapySession.number, TherapySession.id).where(
                *scope.conditions(TherapySession)
            )
        ).all()
    )
    for index, therapy_session in enumerate(document.sessions):
        # A session already in the account (same id) is skipped; a new one needs its number.
        holder = numbers.setdefault(therapy_session.number, therapy_session.id)
        if holder != therapy_session.id:
            refuse(f"sessions.{index}.number", f"session {therapy_session.number} already exists")
    for index, measure in enumerate(document.measures):
        problem = spec_of(measure.instrument).answers_problem(measure.answers)
        if problem:
            refuse(f"measures.{index}.answers{problem[0]}", problem[1])
    for index, reminder in enumerate(document.reminders):
        if _first_day(reminder) is None:
            refuse(f"reminders.{index}.rrule", f"never occurs on or after {reminder.starts_on}")
    kept = session.exec(
        select(func.count()).where(
            *scope.conditions(Reminder),
            col(Reminder.id).not_in({r.id for r in document.reminders} or {uuid.UUID(int=0)}),
        )
    ).one()
    if kept + len(document.reminders) > MAX_REMINDERS:
        refuse("reminders", f"would leave more than {MAX_REMINDERS} reminders")
    for index, entry in enumerate(document.entries):
        if entry.focus_area_id is not None and entry.focus_area_id not in areas:
            refuse(f"entries.{index}.focus_area_id", f"no focus area with id {entry.focus_area_id}")
        for n, person in enumerate(entry.people):
            if person.person_id not in people:
                refuse(
                    f"entries.{index}.people.{n}.person_id", f"no person with id {person.person_id}"
                )
        problem = emotion_people_problem(entry.people, list(entry.emotions))
        if problem:
            refuse(f"entries.{index}.{problem[0]}", problem[1])
    return problems


def _first_day(reminder: ImportedReminder) -> date | None:
    return recurrence.first_day(
        reminder.rrule, reminder.starts_on, reminder.local_time, reminder.timezone
    )


def import_document(session: Session, scope: OwnerScope, document: ExportDocument) -> ImportResult:
    problems = _problems(session, scope, document)
    if problems:
        raise ValidationFailed(
            f"The document has {len(problems)} problem(s); nothing was imported",
            errors=problems[:100],
        )
    imported: dict[str, int] = {}
    skipped: dict[str, int] = {}

    def add(kind: str, model: type[SQLModel], rows: list[Any], values: Any) -> list[Any]:
        """Add the rows this account does not have yet; returns them."""
        have = _existing(session, scope, model, (row.id for row in rows))
        fresh = [row for row in rows if row.id not in have]
        session.add_all(scope.new_row(model, values(row), row.id) for row in fresh)  # type: ignore[type-var]
        session.flush()
        imported[kind], skipped[kind] = len(fresh), len(rows) - len(fresh)
        return fresh

    def plain(row: Any, *exclude: str) -> dict[str, Any]:
        values = row.model_dump(exclude={"id", *exclude})
        return {
            key: value
            for key, value in values.items()
            if value is not None or key not in {"created_at", "updated_at"}
        }

    add("people", Person, document.people, plain)
    for area in add(
        "focus_areas", FocusArea, document.focus_areas, lambda a: plain(a, "person_ids")
    ):
        session.add_all(
            FocusAreaPerson(owner_id=scope.owner_id, focus_area_id=area.id, person_id=pid)
            for pid in area.person_ids
        )
    add(
        "sessions",
        TherapySession,
        document.sessions,
        lambda s: plain(s) | {"phase": s.phase or phase_for(s.number)},
    )
    add(
        "measures",
        Measure,
        document.measures,
        lambda m: (
            plain(m)
            | dict(zip(("total", "severity"), spec_of(m.instrument).score(m.answers), strict=True))
        ),
    )
    add(
        "reminders",
        Reminder,
        document.reminders,
        lambda r: plain(r) | {"starts_on": _first_day(r)},
    )
    # Entries of a format 1 document were exported in UTC: they take the account's zone, as
    # the entries of the time did when they learnt their own (migration 0009).
    zone = ZoneInfo(scope.timezone) if document.format_version == 1 else None

    def entry(row: ImportedEntry) -> dict[str, Any]:
        occurred_at = row.occurred_at if zone is None else row.occurred_at.astimezone(zone)
        return (
            plain(row, "people", "emotions")
            | {"occurred_at": occurred_at}
            | wall_clock(occurred_at)
        )

    entries = add("entries", Entry, document.entries, entry)
    session.add_all(
        EntryPerson(
            owner_id=scope.owner_id, entry_id=e.id, person_id=p.person_id, quality=p.quality
        )
        for e in entries
        for p in e.people
    )
    session.flush()
    session.add_all(
        EntryEmotion(
            owner_id=scope.owner_id,
            entry_id=e.id,
            position=position,
            label=emotion.label,
            intensity=emotion.intensity,
            person_id=emotion.person_id,
            custom=is_custom(emotion.label),
        )
        for e in entries
        for position, emotion in enumerate(e.emotions)
    )
    session.flush()
    return ImportResult(imported=ImportCounts(**imported), skipped=ImportCounts(**skipped))

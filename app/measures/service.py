"""Symptom and functioning measures, scored by the service from the instrument registry."""

import uuid
from typing import Any

from sqlmodel import Session, col

from app.core import crud
from app.core.concurrency import check_if_match
from app.core.errors import ValidationFailed
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.core.settings import Settings
from app.measures.instruments import Answers, spec_of
from app.measures.schemas import MeasureCreate, MeasurePublic, MeasureUpdate
from app.models.therapy import Instrument, Measure
from app.safety import service as safety
from app.safety.schemas import Safety, safety_notice


def _scored(instrument: Instrument, answers: Answers) -> dict[str, Any]:
    spec = spec_of(instrument)
    problem = spec.answers_problem(answers)
    if problem:
        raise ValidationFailed.for_field(f"body.answers{problem[0]}", problem[1])
    total, severity = spec.score(answers)
    return {"total": total, "severity": severity}


def public(measure: Measure, notice: Safety | None = None) -> MeasurePublic:
    return MeasurePublic.model_validate(measure, from_attributes=True).model_copy(
        update={"safety": notice}
    )


def _answered(
    session: Session, scope: OwnerScope, measure: Measure, settings: Settings
) -> MeasurePublic:
    """A written measure, with the crisis resources its answers call for, kept as a safety
    event."""
    notice = None
    spec = spec_of(measure.instrument)
    if spec.safety_item and spec.flags_safety(measure.answers):
        notice = safety_notice(spec.safety_item.reason, settings)
        safety.record(session, scope, spec.safety_item.reason, measure_id=measure.id)
    return public(measure, notice)


def create(
    session: Session, scope: OwnerScope, data: MeasureCreate, settings: Settings
) -> MeasurePublic:
    values = data.model_dump(exclude={"id"}) | _scored(data.instrument, data.answers)
    measure = scope.new_row(Measure, values, data.id)
    crud.insert(session, measure, f"You already have a measure with id {data.id}")
    return _answered(session, scope, measure, settings)


def get(session: Session, scope: OwnerScope, measure_id: uuid.UUID) -> Measure:
    return scope.get(session, Measure, measure_id, "measure")


def page(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[Measure], str | None]:
    return keyset_page(
        session,
        scope.select(Measure),
        col(Measure.completed_at),
        col(Measure.id),
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


def update(
    session: Session,
    scope: OwnerScope,
    measure_id: uuid.UUID,
    changes: MeasureUpdate,
    if_match: str | None,
    settings: Settings,
) -> MeasurePublic:
    measure = get(session, scope, measure_id)
    check_if_match(if_match, measure)
    values = changes.model_dump(exclude_unset=True)
    instrument = values.get("instrument", measure.instrument)
    values |= _scored(instrument, values.get("answers", measure.answers))
    crud.update(session, measure, if_match, values)
    return _answered(session, scope, measure, settings)


def delete(
    session: Session, scope: OwnerScope, measure_id: uuid.UUID, if_match: str | None
) -> None:
    measure = get(session, scope, measure_id)
    check_if_match(if_match, measure)
    safety.forget(session, scope, measure_id=measure.id)
    crud.delete(session, measure, if_match)

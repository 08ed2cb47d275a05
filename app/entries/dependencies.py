"""Query parameters the client's and the therapist's entry lists share."""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from app.core.errors import ValidationFailed
from app.core.timerange import TimeRangeDep
from app.emotions.vocabulary import normalise_label
from app.entries.service import EntryFilters


async def entry_filters(
    occurred: TimeRangeDep,
    person_id: Annotated[uuid.UUID | None, Query(description="Entries naming this person")] = None,
    focus_area_id: uuid.UUID | None = None,
    emotion: Annotated[str | None, Query(max_length=60, description="An emotion label")] = None,
    mood_min: Annotated[int | None, Query(ge=0, le=10)] = None,
    mood_max: Annotated[int | None, Query(ge=0, le=10)] = None,
) -> EntryFilters:
    if emotion is not None:
        try:
            emotion = normalise_label(emotion)
        except ValueError as exc:
            raise ValidationFailed.for_field("query.emotion", str(exc)) from exc
    return EntryFilters(
        occurred=occurred,
        person_id=person_id,
        focus_area_id=focus_area_id,
        emotion=emotion,
        mood_min=mood_min,
        mood_max=mood_max,
    )


EntryFiltersDep = Annotated[EntryFilters, Depends(entry_filters)]

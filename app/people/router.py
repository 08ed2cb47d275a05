import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.people import service
from app.people.schemas import PersonCreate, PersonPublic, PersonUpdate

router = APIRouter(prefix="/v1/people", tags=["people"])


def _public(person: object) -> PersonPublic:
    return PersonPublic.model_validate(person, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a person to the interpersonal inventory",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_person(
    db: Writes, data: PersonCreate, scope: ClientScope, response: Response
) -> PersonPublic:
    person = await db.run(service.create, scope, data)
    set_etag(response, person)
    return _public(person)


@router.get(
    "",
    summary="List people (oldest first)",
    responses=problem_responses(401, 403, 422),
)
async def list_people(
    db: Reads,
    scope: ClientScope,
    include_archived: Annotated[bool, Query(description="Include archived people")] = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PersonPublic]:
    rows, next_cursor = await db.run(
        service.page, scope, include_archived=include_archived, limit=limit, cursor=cursor
    )
    return Page(items=[_public(p) for p in rows], next_cursor=next_cursor)


@router.get(
    "/{person_id}",
    summary="Read one person",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_person(
    db: Reads, person_id: uuid.UUID, scope: ClientScope, response: Response
) -> PersonPublic:
    person = await db.run(service.get, scope, person_id)
    set_etag(response, person)
    return _public(person)


@router.patch(
    "/{person_id}",
    summary="Change a person",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_person(
    db: Writes,
    person_id: uuid.UUID,
    changes: PersonUpdate,
    scope: ClientScope,
    response: Response,
    if_match: IfMatchHeader = None,
) -> PersonPublic:
    person = await db.run(service.update, scope, person_id, changes, if_match)
    set_etag(response, person)
    return _public(person)


@router.delete(
    "/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a person (archived instead when entries name them)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_person(
    db: Writes, person_id: uuid.UUID, scope: ClientScope, if_match: IfMatchHeader = None
) -> Response:
    await db.run(service.delete, scope, person_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

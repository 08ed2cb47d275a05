from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import ProblemError, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"


class DatabaseUnavailable(ProblemError):
    status, slug, title = 503, "database-unavailable", "Database unavailable"


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses=problem_responses(503),
)
def readyz(request: Request) -> Health:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable("The database did not answer") from exc
    return Health()

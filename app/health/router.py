from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from app.core.database.session import LatestReads
from app.core.errors import problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses=problem_responses(503),
)
async def readyz(db: LatestReads) -> Health:
    # A database out of reach is a 503 with Retry-After (app.core.database.problems).
    await db.run(_ping)
    return Health()

"""Query parameters the client's and the therapist's brief routes share."""

import uuid
from typing import Annotated

from fastapi import Query

from app.reports.schemas import BriefFormat

FormatParam = Annotated[
    BriefFormat, Query(description="`html` (to show; the default) or `pdf` (a download)")
]
SessionParam = Annotated[
    uuid.UUID | None,
    Query(description="The session the interval ends at; omitted: since the latest session"),
]

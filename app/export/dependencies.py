"""Query parameters the client's and the therapist's export routes share."""

from typing import Annotated

from fastapi import Query

from app.export.schemas import ExportFormat

FormatParam = Annotated[
    ExportFormat, Query(description="`json` (re-importable), `csv` or `fhir` (R4 Bundle)")
]

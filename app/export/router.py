from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.scoping import ClientScope, OwnerScope
from app.core.timerange import TimeRange, TimeRangeDep
from app.export import formats, importer
from app.export.schemas import ExportDocument, ExportFormat, ImportResult
from app.export.source import DiarySource
from app.models.base import utcnow

router = APIRouter(tags=["export and import"])

MEDIA_TYPES = {
    ExportFormat.json: "application/json",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.fhir: "application/fhir+json",
}
WRITERS = {
    ExportFormat.json: formats.json_document,
    ExportFormat.csv: formats.csv_rows,
    ExportFormat.fhir: formats.fhir_bundle,
}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The download, streamed",
        "content": {
            MEDIA_TYPES[ExportFormat.json]: {
                "schema": {"$ref": "#/components/schemas/ExportDocument"}
            },
            MEDIA_TYPES[ExportFormat.csv]: {"schema": {"type": "string"}},
            MEDIA_TYPES[ExportFormat.fhir]: {
                "schema": {"type": "object", "description": "A FHIR R4 Bundle (collection)"}
            },
        },
    },
    **problem_responses(401, 403, 404, 422),
}
FormatParam = Annotated[
    ExportFormat, Query(description="`json` (re-importable), `csv` or `fhir` (R4 Bundle)")
]


def export_download(
    session: Session, scope: OwnerScope, time_range: TimeRange, export_format: ExportFormat
) -> StreamingResponse:
    source = DiarySource(session=session, scope=scope, occurred=time_range)
    extension = "fhir.json" if export_format is ExportFormat.fhir else export_format.value
    filename = f"ipt-diary-{utcnow():%Y-%m-%d}.{extension}"
    return StreamingResponse(
        WRITERS[export_format](source),
        media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/v1/export",
    summary="Download your diary (JSON, CSV or FHIR R4)",
    description="Streamed. `from`/`to` limit the entries; people, focus areas, sessions and "
    "measures always come whole. JSON holds everything and can be imported again.",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
def export(
    scope: ClientScope,
    session: SessionDep,
    time_range: TimeRangeDep,
    format: FormatParam = ExportFormat.json,
) -> StreamingResponse:
    return export_download(session, scope, time_range, format)


@router.post(
    "/v1/import",
    summary="Import a JSON export into your account",
    description="The whole document is checked first: a bad one writes nothing and the "
    "problem lists what is wrong. Rows whose id the account already has are skipped, so "
    "importing twice adds nothing. Up to 32 MiB.",
    responses=problem_responses(401, 403, 413, 422),
)
def import_export(
    document: ExportDocument, scope: ClientScope, session: SessionDep
) -> ImportResult:
    return importer.import_document(session, scope, document)

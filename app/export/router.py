from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.core.database.session import ReportReads, Writes
from app.core.errors import problem_responses
from app.core.scoping import ClientScope
from app.core.timerange import TimeRangeDep
from app.export import importer, service
from app.export.dependencies import FormatParam
from app.export.schemas import EXPORT_RESPONSES, ExportDocument, ExportFormat, ImportResult

router = APIRouter(tags=["export and import"])


@router.get(
    "/v1/export",
    summary="Download your diary (JSON, CSV or FHIR R4)",
    description="Streamed. `from`/`to` limit the entries; people, focus areas, sessions and "
    "measures always come whole. JSON holds everything and can be imported again.",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export(
    db: ReportReads,
    scope: ClientScope,
    time_range: TimeRangeDep,
    format: FormatParam = ExportFormat.json,
) -> StreamingResponse:
    return service.download(db.session, scope, time_range, format)


@router.post(
    "/v1/import",
    summary="Import a JSON export into your account",
    description="The whole document is checked first: a bad one writes nothing and the "
    "problem lists what is wrong. Rows whose id the account already has are skipped, so "
    "importing twice adds nothing. Up to 32 MiB.",
    responses=problem_responses(401, 403, 413, 422),
)
async def import_export(db: Writes, document: ExportDocument, scope: ClientScope) -> ImportResult:
    return await db.run(importer.import_document, scope, document)

"""The export download: one streamed document in the format asked for."""

from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.export import formats
from app.export.schemas import MEDIA_TYPES, ExportFormat
from app.export.source import DiarySource
from app.models.base import utcnow

WRITERS = {
    ExportFormat.json: formats.json_document,
    ExportFormat.csv: formats.csv_rows,
    ExportFormat.fhir: formats.fhir_bundle,
}


def download(
    session: Session, scope: OwnerScope, time_range: TimeRange, export_format: ExportFormat
) -> StreamingResponse:
    """The scope's diary as a download. Starlette iterates its chunks in its threadpool,
    each read in the request's session (a mode for reports: `ReportReads` or `Writes`)."""
    source = DiarySource(session=session, scope=scope, occurred=time_range)
    extension = "fhir.json" if export_format is ExportFormat.fhir else export_format.value
    filename = f"ipt-diary-{utcnow():%Y-%m-%d}.{extension}"
    return StreamingResponse(
        WRITERS[export_format](source),
        media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

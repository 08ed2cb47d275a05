"""The session brief's formats and its documented answers."""

from enum import StrEnum
from typing import Any

from app.core.errors import problem_responses


class BriefFormat(StrEnum):
    html = "html"
    pdf = "pdf"


MEDIA_TYPES = {BriefFormat.html: "text/html; charset=utf-8", BriefFormat.pdf: "application/pdf"}
BRIEF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The brief: an HTML document that stands alone, or a PDF download",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **problem_responses(401, 403, 404, 422),
}
BRIEF_DESCRIPTION = (
    "What to look at before the next session, for the interval `between-sessions` answers: "
    "safety first, then mood over time, mood with each person (with 95% intervals), each "
    "measure against its bands, the closeness circle, top emotions and, where the reader "
    "may see text, the lowest-mood entries. Every chart is followed by a table of its numbers."
)

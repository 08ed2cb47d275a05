"""Answers whose JSON is written before FastAPI sees it (an entry's, by the projection).

FastAPI neither validates nor serializes a `Response`: the route's `response_model`
documents the body, and the tests check it against that model.
"""

from collections.abc import Mapping

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json"


def json_response(
    body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(body, status_code=status_code, media_type=JSON_MEDIA_TYPE, headers=headers)


def fragments(parts: list[bytes]) -> list[orjson.Fragment]:
    """JSON texts to embed as they are in a document orjson writes."""
    return [orjson.Fragment(part) for part in parts]

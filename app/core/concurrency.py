"""Optimistic concurrency: strong ETags from a row's version, and If-Match checks."""

from typing import Annotated, Protocol

from fastapi import Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired


class VersionedRow(Protocol):
    @property
    def version(self) -> int: ...


def etag_of(row: VersionedRow) -> str:
    return f'"{row.version}"'


def set_etag(response: Response, row: VersionedRow) -> None:
    response.headers["ETag"] = etag_of(row)


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The `ETag` you last saw (e.g. `"3"`), or `*` for any version. Required.',
        max_length=200,
    ),
]


def check_if_match(if_match: str | None, row: VersionedRow) -> None:
    """428 without the header, 412 when no listed tag is the row's current one."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read, or *")
    current = etag_of(row)
    # If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The resource changed since you read it; re-read it and merge",
            headers={"ETag": current},
            current_etag=current,
        )

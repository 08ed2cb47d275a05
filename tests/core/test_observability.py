"""The access log's JSON lines: each carries the second its record was made in."""

import logging
import time

import orjson

from app.core.observability import JsonFormatter


def timestamp(formatter: JsonFormatter, created: float) -> str:
    record = logging.LogRecord("app.access", logging.INFO, __file__, 1, "request", None, None)
    record.created = created
    return str(orjson.loads(formatter.format(record))["ts"])


def test_each_line_carries_its_own_second_though_the_format_is_reused() -> None:
    formatter = JsonFormatter()
    base = 1_700_000_000

    assert timestamp(formatter, base + 0.2) == timestamp(formatter, base + 0.9)
    assert timestamp(formatter, base + 1.0) != timestamp(formatter, base + 0.9)
    assert timestamp(formatter, base + 0.5) == time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.localtime(base)
    )
    assert timestamp(formatter, base + 61.5) == time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.localtime(base + 61)
    )

"""Structured access logs and Prometheus metrics that never carry personal data.

A log line and a metric know the method, the route *template* (never the path with its
ids, never the query string, never a body), the status, the duration and the request id.
"""

import logging
import sys
import time
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "app.access"
UNMATCHED = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class JsonFormatter(logging.Formatter):
    # A line per request: the timestamp is formatted once a second (strftime of the local
    # time is the formatter's dearest step), as one tuple so threads never mix its parts.
    _stamp: tuple[int, str] = (-1, "")

    def _timestamp(self, record: logging.LogRecord) -> str:
        second, stamp = self._stamp
        if second != int(record.created):
            stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
            self._stamp = (int(record.created), stamp)
        return stamp

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self._timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return orjson.dumps(line, default=str).decode()


def configure_logging() -> None:
    """JSON lines on stderr for the app's loggers; uvicorn's access log (which would print
    paths with ids and query strings) is switched off: this module's replaces it."""
    app_logger = logging.getLogger("app")
    if not any(isinstance(h.formatter, JsonFormatter) for h in app_logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        app_logger.addHandler(handler)
        app_logger.setLevel(logging.INFO)
        app_logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency by route template and status",
            ("method", "route", "status"),
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        # Bounded: methods × route templates (or "unmatched") × statuses.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # Any token is a valid HTTP method: unknown ones share a label, so a client cannot
        # grow the metrics without bound.
        method = method if method in KNOWN_METHODS else "other"
        labels = (method, route, status)
        children = self._children.get(labels)
        if children is None:  # labels() is a locked dict lookup: resolve each set once
            values = (method, route, str(status))
            children = (self.requests.labels(*values), self.latency.labels(*values))
            self._children[labels] = children
        requests, latency = children
        requests.inc()
        latency.observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.observe(scope["method"], route, status, elapsed)
            self.logger.info(
                "request",
                extra={
                    "fields": {
                        "request_id": scope.get("state", {}).get("request_id"),
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    }
                },
            )

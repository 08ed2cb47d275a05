"""Logs and metrics carry no personal data; headers and CORS close the edges (the rate limit:
tests/core/test_rate_limit.py)."""

import io
import re

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import create_entry, register

CANARY = "Canary9d2e"


def test_a_canary_in_body_path_and_query_never_reaches_logs_or_metrics(
    client: TestClient, logged_requests: io.StringIO
) -> None:
    ana = register(client, name=CANARY)
    entry = create_entry(client, ana, event=f"{CANARY} body")
    client.get(f"/v1/entries/{CANARY}", headers=ana.headers)  # 422: not a UUID
    client.get(f"/v1/{CANARY}", headers=ana.headers)  # 404: no such route
    client.get("/v1/entries", params={"emotion": CANARY, "q": CANARY}, headers=ana.headers)
    client.get(f"/v1/entries/{entry['id']}", headers=ana.headers)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200

    logged = logged_requests.getvalue()
    assert '"route":"/v1/entries/{entry_id}"' in logged
    assert '"route":"unmatched"' in logged
    assert 'http_requests_total{method="GET",route="/v1/entries",status="200"}' in metrics.text
    for text in (logged, metrics.text):
        assert CANARY not in text
        assert entry["id"] not in text
        assert ana.email not in text


def test_unknown_methods_share_one_metrics_label(client: TestClient) -> None:
    for method in ("FOO", "BAR"):
        assert client.request(method, "/healthz").status_code == 405
    metrics = client.get("/metrics").text
    assert 'http_requests_total{method="other",route="/healthz",status="405"} 2.0' in metrics
    assert "FOO" not in metrics
    assert "BAR" not in metrics


def test_every_response_has_a_request_id_and_api_responses_are_not_cached(
    client: TestClient,
) -> None:
    request_ids = []
    for path in ("/healthz", "/v1/emotions", "/v1/entries"):
        response = client.get(path)
        request_ids.append(response.headers["x-request-id"])
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/v1/emotions").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/healthz").headers
    # The process's random 16-hex-digit prefix, then a counter: one more per request.
    prefixes = {request_id[:16] for request_id in request_ids}
    assert len(prefixes) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", prefixes.pop())
    counters = [int(request_id[16:], 16) for request_id in request_ids]
    assert counters == [counters[0], counters[0] + 1, counters[0] + 2]


def test_the_docs_page_has_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"


def test_cors_is_closed_unless_origins_are_configured(
    client: TestClient, database_url: str
) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    closed = client.options("/v1/entries", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers

    app = create_app(make_settings(database_url, cors_origins=["https://app.example"]))
    with TestClient(app) as open_client:
        allowed = open_client.options("/v1/entries", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = open_client.options(
            "/v1/entries", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    app.state.engine.dispose()

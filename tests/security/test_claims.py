"""Smaller promises of docs/security.md, each held to an exact value."""

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core import idempotency
from app.main import create_app
from app.safety.schemas import LOW_MOOD_THRESHOLD
from app.sync.service import decode_anchor, encode_anchor
from tests.conftest import make_settings
from tests.factories import assert_problem, create_entry, entry_body, register, sync_page


def test_a_sync_anchor_ahead_of_the_server_is_422(client: TestClient) -> None:
    ana = register(client)
    create_entry(client, ana)
    latest = decode_anchor(sync_page(client, ana)["next_anchor"])
    assert sync_page(client, ana, since=encode_anchor(latest))["entries"] == []
    ahead = client.get("/v1/sync", params={"since": encode_anchor(latest + 1)}, headers=ana.headers)
    body = assert_problem(ahead, 422, "query.since")
    assert body["errors"] == [
        {
            "field": "query.since",
            "message": "this anchor is ahead of the server: sync again without `since`",
            "type": "value_error",
        }
    ]


def test_readyz_is_503_when_the_database_is_unreachable(backend: str, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    if backend == "postgresql":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    else:
        url = f"sqlite:///{volume / 'diary.db'}"
    app = create_app(make_settings(url))
    if backend == "sqlite":
        shutil.rmtree(volume)  # the app made the directory; now it is gone (an unmounted disk)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200  # the process itself is alive
        ready = client.get("/readyz")
    app.state.engine.dispose()
    assert_problem(ready, 503)
    assert ready.headers["retry-after"] == "1"


def test_the_configured_helpline_reaches_the_safety_notice_of_a_low_mood(
    database_url: str,
) -> None:
    text, url = "Call 0800 000 111, any hour", "https://helpline.example/ipt"
    app = create_app(make_settings(database_url, helpline_text=text, helpline_url=url))
    with TestClient(app) as client:
        ana = register(client)
        safety = {
            mood: create_entry(client, ana, mood=mood)["safety"]
            for mood in range(LOW_MOOD_THRESHOLD + 2)
        }
    app.state.engine.dispose()
    notice = {"reason": "low_mood", "message": text, "helpline_url": url}
    assert LOW_MOOD_THRESHOLD == 1
    assert safety == {0: notice, 1: notice, 2: None}


DOCUMENTED_KEY_LIFETIME = timedelta(hours=24)  # README.md: "Keys are kept 24 hours."


def test_an_idempotency_key_expires_after_its_lifetime(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = register(client)
    headers = {**ana.headers, "Idempotency-Key": f"retry-{uuid.uuid4()}"}
    body = entry_body(event="once")

    def post_at(moment: datetime) -> tuple[int, str, str | None]:
        monkeypatch.setattr(idempotency, "utcnow", lambda: moment)
        answer = client.post("/v1/entries", json=body, headers=headers)
        return answer.status_code, answer.json()["id"], answer.headers.get("idempotent-replayed")

    stored = datetime.now(UTC).replace(microsecond=0)
    status, first_id, replayed = post_at(stored)
    assert (status, replayed) == (201, None)
    # Its last instant: still the first answer.
    assert post_at(stored + DOCUMENTED_KEY_LIFETIME) == (201, first_id, "true")
    # A microsecond later the key is forgotten: the request runs afresh.
    status, fresh_id, replayed = post_at(
        stored + DOCUMENTED_KEY_LIFETIME + timedelta(microseconds=1)
    )
    assert (status, replayed) == (201, None)
    assert fresh_id != first_id


def test_secure_delete_is_on_for_every_sqlite_connection(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'diary.db'}"))
    engine = app.state.engine
    with engine.connect() as one, engine.connect() as two, engine.connect() as three:
        connections = (one, two, three)
        raw = {id(c.connection.dbapi_connection) for c in connections}
        assert len(raw) == 3  # three pooled connections, each set up on its own
        pragmas = [c.exec_driver_sql("PRAGMA secure_delete").scalar_one() for c in connections]
    # And a connection the pool hands out again keeps it.
    with engine.connect() as again:
        pragmas.append(again.exec_driver_sql("PRAGMA secure_delete").scalar_one())
    engine.dispose()
    assert pragmas == [1, 1, 1, 1]

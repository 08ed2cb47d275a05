"""The per-account rate limit: counted in the database, shared by every worker, written at
most once a second per account and worker."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.core import rate_limit
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import register


def shared_count(database_url: str, owner_id: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            owner = uuid.UUID(owner_id)
            value = owner.hex if engine.dialect.name == "sqlite" else owner
            total = connection.execute(
                text("SELECT coalesce(sum(requests), 0) FROM rate_windows WHERE owner_id = :o"),
                {"o": value},
            ).scalar_one()
        return int(total)
    finally:
        engine.dispose()


def test_two_workers_share_one_limit(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "SYNC_SECONDS", 0.0)  # every request synced
    first = create_app(make_settings(database_url, rate_limit_per_minute=4))
    second = create_app(make_settings(database_url, rate_limit_per_minute=4))
    with TestClient(first) as one, TestClient(second) as two:
        ana = register(one)
        statuses = [
            (one if n % 2 else two).get("/v1/emotions", headers=ana.headers).status_code
            for n in range(6)
        ]
    # The minute may roll over in between: then at most one more gets through.
    assert statuses[:4] == [200] * 4
    assert 429 in statuses[4:]
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_a_busy_account_is_written_once_per_sync_and_still_limited(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limit, "SYNC_SECONDS", 3600.0)  # only the first request syncs
    app = create_app(make_settings(database_url, rate_limit_per_minute=5))
    with TestClient(app) as client:
        ana = register(client)
        statuses = [client.get("/v1/emotions", headers=ana.headers).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:].count(429) >= 2  # at most one slips through a minute's rollover
    # Counted here, written to the shared row once (the first request of the minute), or
    # twice if the minute rolled over in between.
    assert 1 <= shared_count(database_url, ana.id) <= 2
    app.state.engine.dispose()

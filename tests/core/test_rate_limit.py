"""The per-account rate limit: counted in the database, shared by every worker, written at
most once a second per account and worker. The limiter's clock is pinned, so every count,
status and Retry-After below is exact."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.core import rate_limit
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import assert_problem, register

MINUTE = 1_800_000_000.0  # the start of a minute (a multiple of 60)


class PinnedClock:
    """Stands in for the `time` module in app.core.rate_limit, which reads only time()."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    pinned = PinnedClock(MINUTE + 10.5)
    monkeypatch.setattr(rate_limit, "time", pinned)
    return pinned


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


@pytest.fixture
def limited(database_url: str) -> Iterator[TestClient]:
    app = create_app(make_settings(database_url, rate_limit_per_minute=5))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_exactly_the_limit_passes_and_the_next_is_429_until_the_minute_ends(
    limited: TestClient, clock: PinnedClock
) -> None:
    ana = register(limited)  # register and login are not authenticated: not counted
    ben = register(limited, name="Ben")
    statuses = [limited.get("/v1/emotions", headers=ana.headers).status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = limited.get("/v1/emotions", headers=ana.headers)
    body = assert_problem(refused, 429)
    # 49.5 seconds are left of the minute: Retry-After rounds them up.
    assert refused.headers["retry-after"] == "50"
    assert body["detail"] == "More than 5 requests in a minute; slow down"
    assert limited.get("/v1/emotions", headers=ben.headers).status_code == 200  # per account

    clock.now = MINUTE + 60 - 0.001  # the minute's last millisecond: still refused
    assert limited.get("/v1/emotions", headers=ana.headers).headers["retry-after"] == "1"
    clock.now = MINUTE + 60  # the next minute: a new window
    assert limited.get("/v1/emotions", headers=ana.headers).status_code == 200


def test_two_workers_share_one_limit(
    database_url: str, monkeypatch: pytest.MonkeyPatch, clock: PinnedClock
) -> None:
    monkeypatch.setattr(rate_limit, "SYNC_SECONDS", 0.0)  # every request synced
    first = create_app(make_settings(database_url, rate_limit_per_minute=4))
    second = create_app(make_settings(database_url, rate_limit_per_minute=4))
    with TestClient(first) as one, TestClient(second) as two:
        ana = register(one)
        statuses = [
            (one if n % 2 else two).get("/v1/emotions", headers=ana.headers).status_code
            for n in range(6)
        ]
    assert statuses == [200] * 4 + [429] * 2
    assert shared_count(database_url, ana.id) == 6
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_workers_sync_once_a_second_by_default(database_url: str, clock: PinnedClock) -> None:
    assert rate_limit.SYNC_SECONDS == 1.0
    first = create_app(make_settings(database_url, rate_limit_per_minute=4))
    second = create_app(make_settings(database_url, rate_limit_per_minute=4))
    with TestClient(first) as one, TestClient(second) as two:
        ana = register(one)

        def status(worker: TestClient) -> int:
            return worker.get("/v1/emotions", headers=ana.headers).status_code

        start = clock.now
        # The first request of a minute is written at once; the next two wait in worker one.
        assert [status(one), status(one), status(one)] == [200, 200, 200]
        assert shared_count(database_url, ana.id) == 1
        assert status(two) == 200  # worker two does not see worker one's two yet
        assert shared_count(database_url, ana.id) == 2
        clock.now = start + 0.999  # not a second yet: still not written
        assert status(one) == 200
        assert shared_count(database_url, ana.id) == 2
        clock.now = start + 1.0  # a second: worker one writes its three, and sees the five
        assert status(one) == 429
        assert shared_count(database_url, ana.id) == 6
        assert status(two) == 429
        assert shared_count(database_url, ana.id) == 7
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_a_busy_account_is_written_once_per_sync_and_still_limited(
    limited: TestClient, database_url: str, clock: PinnedClock
) -> None:
    ana = register(limited)
    statuses = [limited.get("/v1/emotions", headers=ana.headers).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    assert shared_count(database_url, ana.id) == 1  # only the minute's first was written
    clock.now += rate_limit.SYNC_SECONDS
    assert limited.get("/v1/emotions", headers=ana.headers).status_code == 429
    assert shared_count(database_url, ana.id) == 9

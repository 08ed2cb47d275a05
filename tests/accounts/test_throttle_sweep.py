"""The throttles' table keeps about one window of keys: a key's first request of a window
sweeps every key's older windows, so keys that never come back do not pile up."""

from sqlalchemy import create_engine, text
from sqlmodel import Session

from app.auth import throttle
from tests.conftest import make_settings

WINDOW = throttle.WINDOW_SECONDS


def rows(session: Session) -> list[tuple[str, int, int]]:
    found = session.execute(text('SELECT key_hash, "window", hits FROM request_throttles'))
    return [(key, window, hits) for key, window, hits in found]


def test_older_windows_of_every_key_are_swept(database_url: str) -> None:
    settings = make_settings(database_url)
    engine = create_engine(database_url)
    limit = throttle.Limit("sweep-test", 5)
    start = (10**9 // WINDOW + 1) * WINDOW  # a window's first second, far from now's
    # One transaction, rolled back: the other tests' throttles are left as they were.
    with Session(engine) as session, session.begin():
        session.execute(text("DELETE FROM request_throttles"))
        for address in ("a@example.org", "b@example.org", "b@example.org"):
            throttle.take(session, limit, address, settings, now=start + 1)
        assert sorted(hits for _, _, hits in rows(session)) == [1, 2]

        throttle.take(session, limit, "c@example.org", settings, now=start + WINDOW + 1)
        [(key, window, hits)] = rows(session)
        assert (window, hits) == (start // WINDOW + 1, 1)
        assert "example.org" not in key  # a keyed hash, never the address
        session.rollback()
    engine.dispose()

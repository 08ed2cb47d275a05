"""A real portal to point a browser at: uvicorn on 127.0.0.1 at a free port, over a SQLite
file migrated as tests/conftest.py migrates, and a diary worth looking at."""

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from alembic import command

from app.main import create_app
from tests.conftest import ROOT, alembic_config, make_settings
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
)

CHROMIUM = Path("/usr/bin/chromium")
# Never a downloaded browser: the system's, headless, with nothing phoning home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = ROOT / "var" / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_portal(database: Path) -> Iterator[str]:
    """The service on a SQLite file, served by uvicorn in a thread; its base URL."""
    url = f"sqlite:///{database}"
    command.upgrade(alembic_config(url), "head")
    app = create_app(make_settings(url))
    logging.getLogger("app.access").setLevel(logging.WARNING)  # a line per request: too many
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


PEOPLE = (
    {"name": "Jordan", "relationship": "partner", "closeness": 1},
    {"name": "Mum", "relationship": "parent", "closeness": 1},
    {"name": "Priya", "relationship": "friend", "closeness": 2},
    {"name": "Tom", "relationship": "colleague", "closeness": 3},
)
EMOTIONS = ("hurt", "calm", "anxious", "supported", "frustrated", "hopeful", "lonely")
EVENTS = (
    ("conflict", "Argued with Jordan about the move again", "I said I felt unheard"),
    ("support_received", "Mum called and we talked for an hour", "I asked how she was"),
    ("social_activity", "Lunch with Priya near the new office", "I told her about the job"),
    ("conversation", "Tom asked me to cover his shift", "I said yes, then regretted it"),
    ("isolation", "Stayed in all weekend, did not answer messages", "I said nothing"),
)


def seed_diary(http: httpx.Client, account: Account, *, weeks: int = 6, low: bool = True) -> None:
    """`weeks` of a diary up to today: weekly sessions, entries most days naming people,
    PHQ-9 and GAD-7 every two weeks; `low`: a rough patch with a mood of 1 this week."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    people = [create_person(http, account, **person)["id"] for person in PEOPLE]
    create_focus_area(http, account, problem_area="role_dispute", title="Disagreement with Jordan",
                      dispute_stage="renegotiation")  # fmt: skip
    for number in range(1, weeks + 1):
        held = now - timedelta(weeks=weeks - number + 1)  # the open interval: a week
        create_session(http, account, held_at=held.isoformat(), number=number)
    for day in range(weeks * 7, 0, -1):
        if day % 5 == 0:
            continue  # a day without entries
        event_type, event, said = EVENTS[day % len(EVENTS)]
        mood = max(0, min(10, 4 + (weeks * 7 - day) // 9 + (day % 3) - 1))
        if low and day == 2:
            mood = 1
        named = [people[day % 4], people[(day + 1) % 4]][: 1 + day % 2]
        body: dict[str, Any] = {
            "occurred_at": (now - timedelta(days=day, hours=day % 6)).isoformat(),
            "mood": mood,
            "event": event,
            "event_type": event_type,
            "people": [{"person_id": p, "quality": (mood - 5) // 3} for p in named],
            "emotions": [{"label": EMOTIONS[day % 7], "intensity": 3 + day % 6}],
            "communication": {"what_i_said": said, "what_i_felt": "tense, then relieved"},
        }
        create_entry(http, account, **body)
    for fortnight in range(weeks // 2, -1, -1):
        at = (now - timedelta(weeks=2 * fortnight, days=1)).isoformat()
        level = 2 if low and fortnight == 0 else min(3, fortnight)  # worse this week
        phq9 = [level, level, 1, 1, level, 1, 0, 0, 1 if low and fortnight == 0 else 0]
        create_measure(http, account, instrument="phq9", answers=phq9, completed_at=at)
        create_measure(http, account, instrument="gad7", answers=[level, 1, 1, level, 0, 1, 1],
                       completed_at=at)  # fmt: skip

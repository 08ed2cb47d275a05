"""Every test that takes `client` runs once on SQLite and once on PostgreSQL.

Each backend gets a fresh database built by the Alembic migrations (not create_all), so
the schema under test is the one production gets. Tests isolate themselves by registering
their own accounts; nothing is truncated between tests.
"""

import atexit
import io
import logging
import os

os.environ["ENVIRONMENT"] = "test"  # before any app import: no production secret checks

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.observability import ACCESS_LOGGER, JsonFormatter
from app.core.settings import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_skipped_postgres: list[str] = []


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["quiet"] = True
    return config


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(POSTGRES_ADMIN_DSN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_DSN} ({exc.__class__.__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: under CI=true PostgreSQL is required")
        _skipped_postgres.append(reason)
        pytest.skip(f"{reason}: skipping the PostgreSQL half of the suite")


def create_postgres_database() -> tuple[str, str]:
    """A uniquely named empty database: (SQLAlchemy URL, name)."""
    _postgres_or_skip()
    name = f"ipt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def empty_database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[object]:
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'diary.db'}"
        url, name = create_postgres_database()
        created.append(name)
        return url

    yield make
    for name in created:
        drop_postgres_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, empty_database_factory: object) -> str:
    url = empty_database_factory(backend)  # type: ignore[operator]
    command.upgrade(alembic_config(url), "head")
    return str(url)


# One folder per run (per xdist worker), removed when the run ends.
_MAIL_DIR = Path(tempfile.mkdtemp(prefix="ipt-diary-test-mail-"))
atexit.register(shutil.rmtree, _MAIL_DIR, ignore_errors=True)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        # Off by default: a test of the limit builds its own app with one.
        "rate_limit_per_minute": 0,
        # Registration mails a code: without SMTP_URL, to files, kept out of the work tree.
        "mail_dir": _MAIL_DIR,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[FastAPI]:
    application = create_app(make_settings(database_url))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_postgres:
        terminalreporter.write_sep("!", "PostgreSQL tests SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_skipped_postgres[0])
        terminalreporter.write_line("Start it, or set TEST_POSTGRES_DSN, to run the whole suite.")


@pytest.fixture
def logged_requests() -> Iterator[io.StringIO]:
    """The access log's JSON lines written during the test (to check what it never holds)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)

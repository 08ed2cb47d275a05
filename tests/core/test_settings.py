import pytest
from pydantic import ValidationError

from app.core.settings import DEVELOPMENT_SECRET, Settings

LONG_SECRET = "x" * 40


@pytest.mark.parametrize("secret", [None, DEVELOPMENT_SECRET, "short-secret"])
def test_production_refuses_a_missing_default_or_short_secret(
    secret: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    values = {"environment": "production"} | ({"secret_key": secret} if secret else {})
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(**values)  # type: ignore[arg-type]


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError):
        Settings()
    assert Settings(secret_key=LONG_SECRET).environment == "production"  # type: ignore[arg-type]


def test_development_runs_with_the_default_secret() -> None:
    assert Settings(environment="development").secret_key.get_secret_value() == DEVELOPMENT_SECRET


@pytest.mark.parametrize("prefix", ["postgresql://", "postgres://"])
def test_plain_postgresql_urls_get_the_psycopg_driver(prefix: str) -> None:
    settings = Settings(environment="test", database_url=f"{prefix}u@h:5432/db")
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"

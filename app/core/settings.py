"""Runtime configuration, read once from environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only ever accepted when ENVIRONMENT is development or test.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105


DEFAULT_DATABASE_URL = "sqlite:///./var/ipt-diary.db"


def normalise_database_url(url: str) -> str:
    """Operators give plain postgresql:// URLs; SQLAlchemy needs the driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # Production is the default so that a forgotten variable fails closed.
    environment: Literal["production", "development", "test"] = "production"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    # `id:base64-32-byte-key,…`; the first encrypts, all decrypt. Empty: derived from SECRET_KEY.
    encryption_keys: SecretStr = SecretStr("")

    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    jwt_audience: str = "ipt-diary"
    jwt_issuer: str = "ipt-diary"

    login_max_failures: int = Field(default=10, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # A portal login unused this long is over (DESIGN §8).
    portal_idle_hours: int = Field(default=8, ge=1, le=24 * 30)

    cors_origins: list[str] = []
    rate_limit_per_minute: int = Field(default=600, ge=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_import_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Memory per worker for summary answers kept until the diary changes; 0 keeps none.
    summary_answers_mb: int = Field(default=16, ge=0)

    # Mail (DESIGN §10): `smtp://user:password@host:port` (STARTTLS when the server offers
    # it) or `smtps://…` (TLS from the start). Empty: each message is written to MAIL_DIR as
    # an .eml file instead, so development needs no mail server.
    smtp_url: SecretStr = SecretStr("")
    mail_from: str = "IPT Diary <no-reply@localhost>"
    mail_dir: Path = Path("var/mail")
    # What the mails' links start with: a link the app opens, e.g. ipt-diary://reset?code=…
    app_link_base: str = "ipt-diary://"
    # Where the service is reached from outside, e.g. https://diary.example.org: what a
    # calendar feed's address starts with. Empty: the address the request came to.
    public_base_url: str = ""
    # invite: a therapist account needs an invitation code (`python -m app.cli invite-therapist`).
    therapist_signup: Literal["open", "invite"] = "open"

    helpline_text: str = (
        "If you are thinking about harming yourself or feel unsafe, please contact your "
        "therapist or a crisis line now. In an emergency, call your local emergency number."
    )
    helpline_url: str = "https://findahelpline.com"

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, url: str) -> str:
        return normalise_database_url(url)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters "
                    "outside development (set ENVIRONMENT=development to run locally)"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment (the CLI, migrations and `app.main:app`)."""
    return Settings()


async def app_settings(request: Request) -> Settings:
    # The app's own settings (tests build apps with their own). Not dependency_overrides:
    # while any override exists FastAPI re-resolves the dependency graph on every request.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]

"""portal sessions

A portal login is a login session like the API's (revoked the same way) that a browser holds
in a cookie: the sha256 of the cookie's secret, and when it was last used, for the idle
expiry. Both are null for API logins.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(
            sa.Column(
                "portal_secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch.add_column(
            sa.Column("last_seen_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("portal_secret_hash")

"""measure schedules

How often each instrument is due, as agreed in therapy (DESIGN §11): every n sessions held,
every n days, or whichever comes first; one row per account and instrument.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measure_schedules",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "instrument",
            sa.Enum(
                "phq9", "gad7", "wsas", "epds", name="instrument", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("every_n_sessions", sa.Integer(), nullable=True),
        sa.Column("every_n_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_measure_schedules_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "instrument", name="pk_measure_schedules"),
    )


def downgrade() -> None:
    op.drop_table("measure_schedules")

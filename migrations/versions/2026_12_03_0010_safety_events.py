"""safety events

Every safety notice the API gives (an entry with mood ≤ 1, a PHQ-9 whose item 9 is above
0) is kept, once per source and reason, and deleted with its source.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_events",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reason",
            sa.Enum("low_mood", "phq9_item9", name="safetyreason", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("measure_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(entry_id IS NULL) <> (measure_id IS NULL)", name="ck_safety_events_one_source"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id", "entry_id"],
            ["entries.owner_id", "entries.id"],
            name="fk_safety_events_owner_id_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id", "measure_id"],
            ["measures.owner_id", "measures.id"],
            name="fk_safety_events_owner_id_measure_id_measures",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_safety_events_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "id", name="pk_safety_events"),
        sa.UniqueConstraint(
            "owner_id", "entry_id", "reason", name="uq_safety_events_owner_id_entry_id_reason"
        ),
        sa.UniqueConstraint(
            "owner_id", "measure_id", "reason", name="uq_safety_events_owner_id_measure_id_reason"
        ),
    )
    op.create_index("ix_safety_events_owner_id_at_id", "safety_events", ["owner_id", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_safety_events_owner_id_at_id", table_name="safety_events")
    op.drop_table("safety_events")

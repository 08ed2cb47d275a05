"""summary covering indexes

Indexes that hold every column the summaries read of an entry, its people and its emotions,
so the summaries never visit the tables' rows. The entries one starts with the columns of
`ix_entries_owner_id_occurred_at_id`, which it replaces (one index less to keep up on every
write). On PostgreSQL they are built CONCURRENTLY: writes to a large diary table go on
while they build.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 14:05:12.311482
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = (
    (
        "entries",
        "ix_entries_owner_id_occurred_at_id_mood_private",
        ["owner_id", "occurred_at", "id", "mood", "private"],
    ),
    (
        "entry_emotions",
        "ix_entry_emotions_owner_id_entry_id_person_id_label_intensity",
        ["owner_id", "entry_id", "person_id", "label", "intensity"],
    ),
    (
        "entry_people",
        "ix_entry_people_owner_id_entry_id_person_id_quality",
        ["owner_id", "entry_id", "person_id", "quality"],
    ),
)
REPLACED = ("entries", "ix_entries_owner_id_occurred_at_id", ["owner_id", "occurred_at", "id"])


def upgrade() -> None:
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    with op.get_context().autocommit_block():
        for table, name, columns in COVERING:
            op.create_index(name, table, columns, postgresql_concurrently=True)
        table, name, _ = REPLACED
        op.drop_index(name, table_name=table, postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        table, name, columns = REPLACED
        op.create_index(name, table, columns, postgresql_concurrently=True)
        for table, name, _ in reversed(COVERING):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)

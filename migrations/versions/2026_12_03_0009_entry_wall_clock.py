"""an entry keeps its own clock

Each entry keeps the UTC offset it was written with (`occurred_at_offset_minutes`) and its
local date (`local_date`), so that moving the account to another time zone never moves past
entries to another day, and the summaries bucket by a stored date. Existing entries take
the account's time zone at their instant, rounded to whole minutes (only local mean time,
before standard time zones, had offsets with seconds). The summaries' covering index gains
the local date.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("timezone", sa.String()))
entries = sa.table(
    "entries",
    sa.column("owner_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("occurred_at_offset_minutes", sa.SmallInteger()),
    sa.column("local_date", sa.Date()),
)
OLD_INDEX = (
    "ix_entries_owner_id_occurred_at_id_mood_private",
    ["owner_id", "occurred_at", "id", "mood", "private"],
)
NEW_INDEX = (
    "ix_entries_owner_id_occurred_at_id_mood_private_local_date",
    ["owner_id", "occurred_at", "id", "mood", "private", "local_date"],
)


def wall_clock(occurred_at: datetime, zone: ZoneInfo | None) -> tuple[int, object]:
    """The offset in whole minutes of `zone` at the instant, and the local date there."""
    instant = occurred_at.replace(tzinfo=UTC) if occurred_at.tzinfo is None else occurred_at
    offset = (instant.astimezone(zone).utcoffset() if zone else None) or timedelta()
    minutes = round(offset / timedelta(minutes=1))
    return minutes, (instant + timedelta(minutes=minutes)).date()


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("occurred_at_offset_minutes", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("local_date", sa.Date(), nullable=True))
    connection = op.get_bind()
    update = (
        entries.update()
        .where(entries.c.owner_id == sa.bindparam("o"), entries.c.id == sa.bindparam("i"))
        .values(occurred_at_offset_minutes=sa.bindparam("minutes"), local_date=sa.bindparam("day"))
    )
    for owner_id, zone_name in connection.execute(sa.select(users.c.id, users.c.timezone)).all():
        try:
            zone: ZoneInfo | None = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None  # the account's zone was always checked: never seen
        rows = connection.execute(
            sa.select(entries.c.id, entries.c.occurred_at).where(entries.c.owner_id == owner_id)
        ).all()
        values = []
        for entry_id, occurred_at in rows:
            minutes, day = wall_clock(occurred_at, zone)
            values.append({"o": owner_id, "i": entry_id, "minutes": minutes, "day": day})
        if values:
            connection.execute(update, values)
    with op.batch_alter_table("entries") as batch:
        batch.alter_column(
            "occurred_at_offset_minutes", existing_type=sa.SmallInteger(), nullable=False
        )
        batch.alter_column("local_date", existing_type=sa.Date(), nullable=False)
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    with op.get_context().autocommit_block():
        op.create_index(NEW_INDEX[0], "entries", NEW_INDEX[1], postgresql_concurrently=True)
        op.drop_index(OLD_INDEX[0], table_name="entries", postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(OLD_INDEX[0], "entries", OLD_INDEX[1], postgresql_concurrently=True)
        op.drop_index(NEW_INDEX[0], table_name="entries", postgresql_concurrently=True)
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("local_date")
        batch.drop_column("occurred_at_offset_minutes")

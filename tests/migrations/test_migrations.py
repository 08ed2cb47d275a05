"""The models and the migrations describe the same schema, on both databases."""

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from app.models import metadata
from tests.conftest import alembic_config


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_upgrade_check_downgrade(
    engine_name: str, empty_database_factory: Callable[[str], str]
) -> None:
    url = empty_database_factory(engine_name)
    config = alembic_config(url)

    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables

        command.check(config)  # raises when autogenerate would emit any operation

        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()

"""The design's rules that code review alone would let slip: every route that touches the
database declares how, first; a session is never opened without a declared mode."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.crypto import KeyRing
from app.core.database.engine import TransactionEngines
from app.core.database.session import (
    LATEST_READS,
    MODE_DEPENDENCIES,
    WRITES,
    RequestDatabase,
    UndeclaredMode,
)

# Routes that never touch the database (the vocabulary is a constant).
DATABASE_FREE = {("GET", "/healthz"), ("GET", "/v1/emotions"), ("GET", "/docs"), ("GET", "/redoc")}
# The portal's page for an address it does not have.
DATABASE_FREE |= {(method, "/portal/{path:path}") for method in ("GET", "HEAD", "POST")}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, Dependant]]:
    """(method, path, dependencies) of every API route, included routers' prefixes applied."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            for method in context.methods or ():
                yield method, str(context.path), context.dependant


def test_every_route_declares_one_database_mode_as_its_first_dependency(app: FastAPI) -> None:
    declared = 0
    for method, path, dependant in _routes(app):
        modes = [call for call in _calls(dependant) if call in MODE_DEPENDENCIES]
        if (method, path) in DATABASE_FREE:
            assert modes == [], path
            continue
        first = dependant.dependencies[0].call
        assert first in MODE_DEPENDENCIES, f"{method} {path} declares no mode first"
        assert len(modes) == 1, f"{method} {path} declares {len(modes)} modes"
        declared += 1
    assert declared >= 50  # every diary, account, therapist and health route


def test_writes_are_declared_by_every_route_that_is_not_a_read(app: FastAPI) -> None:
    for method, path, dependant in _routes(app):
        if method in {"POST", "PATCH", "PUT", "DELETE"} and (method, path) not in DATABASE_FREE:
            first = dependant.dependencies[0].call
            assert getattr(first, "__name__", None) == "_writes", f"{method} {path}"


def test_a_session_needs_a_declared_mode_and_a_route_declares_one(app: FastAPI) -> None:
    engines = TransactionEngines.of(app.state.engine)
    database = RequestDatabase(engines, KeyRing.from_settings(app.state.settings))
    with pytest.raises(UndeclaredMode):
        _ = database.session
    database.declare(LATEST_READS)
    database.declare(LATEST_READS)  # the same mode again is the same declaration
    with pytest.raises(UndeclaredMode):
        database.declare(WRITES)

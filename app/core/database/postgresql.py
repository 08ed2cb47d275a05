"""PostgreSQL as the service uses it: connections pinged only after sitting idle."""

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

IDLE_BEFORE_PING_SECONDS = 5.0
_CHECKED_IN_AT = "ipt_checked_in_at"


def configure(engine: Engine) -> None:
    # pool_pre_ping would ping on every checkout: a round trip per request, ~10% of a read.
    # A connection that was in use a moment ago is alive; one that sat idle (the server may
    # have restarted, a firewall dropped it) is pinged first and replaced if dead.
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError from exc  # the pool retries with a new connection

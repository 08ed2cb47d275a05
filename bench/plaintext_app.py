"""The service with field encryption switched off — for measuring what encryption costs.

Benchmark-only: it removes the ORM hooks that encrypt and decrypt, so rows are stored and
read as plaintext. Never deploy it.
"""

from sqlalchemy import event

from app.core import field_encryption
from app.main import create_app

app = create_app()
for model in field_encryption.ENCRYPTED_FIELDS:
    for name, hook in (
        ("before_insert", field_encryption._before_insert),
        ("before_update", field_encryption._before_update),
        ("after_insert", field_encryption._after_write),
        ("after_update", field_encryption._after_write),
        ("load", field_encryption._on_load),
        ("refresh", field_encryption._on_load),
    ):
        if event.contains(model, name, hook):
            event.remove(model, name, hook)

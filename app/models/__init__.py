"""Table models. Importing this package registers every table on `metadata`."""

from app.models import access, account, diary, mail, reminders, safety, sync, therapy
from app.models.base import metadata

__all__ = [
    "access",
    "account",
    "diary",
    "mail",
    "metadata",
    "reminders",
    "safety",
    "sync",
    "therapy",
]

"""Table models. Importing this package registers every table on `metadata`."""

from app.models import access, account, diary, sync, therapy
from app.models.base import metadata

__all__ = ["access", "account", "diary", "metadata", "sync", "therapy"]

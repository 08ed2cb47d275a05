"""Table models. Importing this package registers every table on `metadata`."""

from app.models import account, diary, sync, therapy
from app.models.base import metadata

__all__ = ["account", "diary", "metadata", "sync", "therapy"]

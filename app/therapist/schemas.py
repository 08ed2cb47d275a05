import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.access import ShareScope


class LinkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "7QK2M-XJ9RD"}]}
    )

    code: str = Field(
        max_length=40, description="The code the client gave you; case and dashes do not matter"
    )


class LinkedClient(BaseModel):
    client_id: uuid.UUID
    display_name: str
    scope: ShareScope
    linked_at: datetime
    expires_at: datetime | None
    last_entry_at: datetime | None = Field(description="Latest shared (non-private) entry")

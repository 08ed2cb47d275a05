from pydantic import BaseModel, Field


class CalendarTokenPublic(BaseModel):
    token: str = Field(description="The feed's secret: whoever has it can read the feed")
    url: str = Field(
        description="The feed's address, to subscribe to in a calendar app",
        examples=["https://diary.example.org/v1/calendar.ics?token=…"],
    )

"""The calendar feed as iCalendar (RFC 5545), written by the icalendar library: a therapy
session is an event with its number and time, an active reminder a recurring event at its
local time in its own zone (so it stays at that wall-clock time across daylight saving).
Nothing a person wrote is in it."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from app.calendar.service import FeedContent
from app.models.reminders import Reminder, ReminderKind

MEDIA_TYPE = "text/calendar; charset=utf-8"
SESSION_LENGTH = timedelta(minutes=50)  # the usual therapy hour
REMINDER_LENGTH = timedelta(minutes=10)
SUMMARIES = {
    ReminderKind.diary: "Write in your diary",
    ReminderKind.mood: "Note your mood",
    ReminderKind.measure: "Fill in your questionnaire",
}
# How far ahead each VTIMEZONE spells out its zone's changes (apps that know the zone by its
# IANA name, as most do, use their own rules anyway).
ZONE_YEARS_AHEAD = 20


def _uid(owner_id: uuid.UUID, kind: str, row_id: uuid.UUID) -> str:
    # Ids are unique per account only; derived with the owner, a UID is unique everywhere,
    # the same in every copy of the feed, and names neither.
    return f"{uuid.uuid5(owner_id, f'{kind}/{row_id}')}@ipt-diary"


def _reminder_start(reminder: Reminder) -> datetime:
    return datetime.combine(reminder.starts_on, reminder.local_time, ZoneInfo(reminder.timezone))


def calendar(content: FeedContent, today: date) -> bytes:
    feed = Calendar()
    feed.add("prodid", "-//IPT Diary//Calendar feed//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", "IPT diary")
    for therapy_session in content.sessions:
        event = Event()
        event.add("uid", _uid(content.owner_id, "session", therapy_session.id))
        event.add("dtstamp", therapy_session.updated_at)
        event.add("dtstart", therapy_session.held_at)
        event.add("duration", SESSION_LENGTH)
        event.add("summary", f"IPT session {therapy_session.number}")
        feed.add_component(event)
    for reminder in content.reminders:
        event = Event()
        event.add("uid", _uid(content.owner_id, "reminder", reminder.id))
        event.add("dtstamp", reminder.updated_at)
        event.add("dtstart", _reminder_start(reminder))
        event.add("duration", REMINDER_LENGTH)
        event.add("rrule", vRecur.from_ical(reminder.rrule))
        event.add("summary", SUMMARIES[reminder.kind])
        feed.add_component(event)
    days = [today, *(reminder.starts_on for reminder in content.reminders)]
    feed.add_missing_timezones(
        first_date=min(days) - timedelta(days=1),
        last_date=date(max(days).year + ZONE_YEARS_AHEAD, 1, 1),
    )
    return bytes(feed.to_ical())

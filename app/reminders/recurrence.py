"""A reminder's recurrence: an RFC 5545 RRULE value, read by dateutil, and the first day it
occurs on.

A rule says which days; the time of day is the reminder's `local_time` and the start its
`starts_on`, so a rule may not carry DTSTART, BYHOUR, BYMINUTE, BYSECOND or a frequency
below a day. The parts RFC 5545 forbids for a frequency are refused too: calendar apps and
devices would each read them their own way.
"""

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

EXAMPLE = "FREQ=WEEKLY;BYDAY=MO,TH"
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_SUB_DAILY = {"HOURLY", "MINUTELY", "SECONDLY"}
_TIME_OF_DAY = {"BYHOUR", "BYMINUTE", "BYSECOND"}
# The numeric list parts and their largest value; all but BYMONTH also count from the end.
_NUMBERS = {"BYMONTH": 12, "BYMONTHDAY": 31, "BYYEARDAY": 366, "BYWEEKNO": 53, "BYSETPOS": 366}
_PARTS = {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "WKST", *_NUMBERS}
# RFC 5545 §3.3.10: parts that MUST NOT be used with these frequencies.
_NOT_WITH = {
    "BYWEEKNO": {"DAILY", "WEEKLY", "MONTHLY"},
    "BYYEARDAY": {"DAILY", "WEEKLY", "MONTHLY"},
    "BYMONTHDAY": {"WEEKLY"},
}
_CHARACTERS = re.compile(r"[A-Z0-9=;,+-]+")
_UNTIL = re.compile(r"\d{8}T\d{6}Z")
_WEEKDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_PARSE_START = datetime(2000, 1, 1, tzinfo=UTC)

# How far ahead a rule's first day is looked for: a rule with none by then never occurs.
HORIZON_YEARS = 100
# The Gregorian calendar, weekdays included, repeats every 400 years.
_CYCLE_YEARS = 400
_LAST_YEAR = 9999


def normalise(text: str) -> str:
    """The rule, upper case (RFC 5545 names are case-insensitive), once it reads as one;
    otherwise a ValueError that says what is wrong in plain words."""
    rule = text.upper()
    if "DTSTART" in rule:
        raise ValueError("must not contain DTSTART: a reminder starts on starts_on, at local_time")
    if not _CHARACTERS.fullmatch(rule):
        raise ValueError(f"must be one rule's value, no 'RRULE:' or line breaks, e.g. {EXAMPLE}")
    parts: dict[str, str] = {}
    for part in rule.split(";"):
        name, _, value = part.partition("=")
        if not name or not value:
            raise ValueError(f"'{part}' is not NAME=VALUE, e.g. {EXAMPLE}")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = value
    _check(parts)
    try:
        rrulestr(rule, dtstart=_PARSE_START)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"not a recurrence rule: {exc}") from None
    return rule


def _check(parts: dict[str, str]) -> None:
    frequency = parts.get("FREQ")
    if frequency is None:
        raise ValueError(f"needs FREQ, e.g. {EXAMPLE}")
    if frequency in _SUB_DAILY:
        raise ValueError(
            f"FREQ={frequency} repeats within a day; a reminder comes at most daily, at local_time"
        )
    if frequency not in FREQUENCIES:
        raise ValueError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    for name, value in parts.items():
        if name in _TIME_OF_DAY:
            raise ValueError(f"{name} cannot be used: the time of day is local_time")
        if name not in _PARTS:
            raise ValueError(f"{name} is not a part of an RFC 5545 recurrence rule")
        if frequency in _NOT_WITH.get(name, ()):
            raise ValueError(f"{name} cannot be used with FREQ={frequency} (RFC 5545)")
        if name in _NUMBERS:
            _check_numbers(name, value, _NUMBERS[name], signed=name != "BYMONTH")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("COUNT and UNTIL cannot both be given (RFC 5545)")
    for name in ("COUNT", "INTERVAL"):
        if name in parts and not re.fullmatch(r"0*[1-9]\d{0,4}", parts[name]):
            raise ValueError(f"{name} must be a whole number from 1 to 99999")
    if "UNTIL" in parts and not _UNTIL.fullmatch(parts["UNTIL"]):
        raise ValueError("UNTIL must be a UTC date and time such as 20261231T235959Z")
    if "BYDAY" in parts:
        _check_weekdays(parts["BYDAY"], frequency, "BYWEEKNO" in parts)
    if "BYSETPOS" in parts and not any(
        name.startswith("BY") for name in parts if name != "BYSETPOS"
    ):
        raise ValueError("BYSETPOS needs another BY… part to pick from (RFC 5545)")


def _check_numbers(name: str, value: str, largest: int, *, signed: bool) -> None:
    for item in value.split(","):
        number = int(item) if re.fullmatch(r"[+-]?\d{1,3}", item) else None
        if number is None or not (1 <= number <= largest or (signed and -largest <= number <= -1)):
            also = f" or -{largest} to -1" if signed else ""
            raise ValueError(f"{name}={item} is out of range: each must be 1 to {largest}{also}")


def _check_weekdays(value: str, frequency: str, by_week_number: bool) -> None:
    for item in value.split(","):
        found = _WEEKDAY.fullmatch(item)
        if found is None:
            raise ValueError(f"BYDAY lists '{item}', not a weekday such as MO, 1MO or -1FR")
        if found.group(1) is None:
            continue
        if frequency not in ("MONTHLY", "YEARLY") or by_week_number:
            raise ValueError(
                f"BYDAY={item}: a numbered weekday needs FREQ=MONTHLY or YEARLY without BYWEEKNO"
            )
        if not 1 <= abs(int(found.group(1))) <= 53:
            raise ValueError(f"BYDAY={item}: the number must be 1 to 53 or -53 to -1")


def first_day(rule: str, starts_on: date, local_time: time, timezone: str) -> date | None:
    """The first day on or after `starts_on` that `rule` (checked by `normalise`) occurs on at
    `local_time` in `timezone`; None when it never does (COUNT or UNTIL leave none, or
    none comes within HORIZON_YEARS)."""
    start = datetime.combine(starts_on, local_time)
    rules = rrulestr(rule, dtstart=start.replace(tzinfo=ZoneInfo(timezone)))
    # dateutil looks for a rule's next day one period at a time up to the year 9999, so a
    # rule whose days never come (BYMONTH=2;BYMONTHDAY=30) would take seconds. Moved on by
    # whole calendar cycles to just before that end, the search sees the same days and ends
    # after HORIZON_YEARS to HORIZON_YEARS + 400 years.
    shift = (_LAST_YEAR - HORIZON_YEARS - start.year) // _CYCLE_YEARS * _CYCLE_YEARS
    search = rules.replace(dtstart=start.replace(year=start.year + shift), until=None, count=None)
    if next(iter(search), None) is None:
        return None
    # It has days, so this finds the first as fast; UNTIL may still come before it.
    first: datetime | None = next(iter(rules), None)
    return None if first is None else first.date()

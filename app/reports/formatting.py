"""Numbers and dates as a session brief writes them, the same in its tables, its charts and
their descriptions: one decimal for means, signed differences ("+1.4", "−0.4"), intervals
("−0.4 to +2.1"), dates like "Tue 3 Dec".

English names are spelled out here rather than taken from `strftime`, which follows the
process's locale.
"""

from datetime import date, datetime

MINUS = "−"  # U+2212: the same width as "+", unlike a hyphen
DASH = "–"  # U+2013, for ranges
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def one_decimal(value: float) -> str:
    """ "5.2"; a negative value with a real minus sign."""
    text = f"{abs(value):.1f}"
    return f"{MINUS}{text}" if value < 0 and text != "0.0" else text


def signed(value: float) -> str:
    """ "+1.4", "−0.4", "0.0": a difference, whose sign is the point."""
    text = f"{abs(value):.1f}"
    if text == "0.0":
        return text
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def signed_integer(value: int) -> str:
    """ "+2", "−1", "0": an axis tick of a difference."""
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else f"{MINUS}{-value}"


def interval(low: float, high: float) -> str:
    """A 95% interval: "−0.4 to +2.1"."""
    return f"{signed(low)} to {signed(high)}"


def short_day(day: date) -> str:
    """ "3 Dec": an axis tick."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


def weekday(day: date) -> str:
    """ "Tue 3 Dec": a row of a table."""
    return f"{_WEEKDAYS[day.weekday()]} {short_day(day)}"


def full_day(day: date) -> str:
    """ "Tue 3 Dec 2024"."""
    return f"{weekday(day)} {day.year}"


def time_of_day(moment: datetime) -> str:
    """ "Tue 3 Dec, 21:40", on the clock `moment` carries."""
    return f"{weekday(moment.date())}, {moment:%H:%M}"


def day_span(first: date, last: date) -> str:
    """ "2–9 Dec 2024", "28 Nov – 9 Dec 2024", "28 Dec 2024 – 3 Jan 2025": the year once,
    the month once when both ends share it."""
    if first.year != last.year:
        return f"{short_day(first)} {first.year} {DASH} {short_day(last)} {last.year}"
    if first.month != last.month:
        return f"{short_day(first)} {DASH} {short_day(last)} {last.year}"
    if first.day != last.day:
        return f"{first.day}{DASH}{short_day(last)} {last.year}"
    return f"{short_day(last)} {last.year}"


def number_span(numbers: list[int]) -> str:
    """ "6–9" for consecutive numbers, "2, 4, 7" otherwise, "" for none."""
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}{DASH}{numbers[-1]}"
    return ", ".join(map(str, numbers))


_SPELLINGS = {"ex_partner": "ex-partner"}


def words(code: str) -> str:
    """A stored code as words: "role_dispute" → "role dispute"."""
    return _SPELLINGS.get(code) or code.replace("_", " ")

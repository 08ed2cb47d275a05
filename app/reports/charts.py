"""The session brief's charts: matplotlib draws them, svg.py makes them accessible inline SVG.

Each public function takes the brief's data and returns one `<svg role="img">` element as
`Markup`, with a `<title>` and a `<desc>` (a one-sentence reading), every id prefixed with
the chart's key, no `style` attribute and no `<style>` element.

matplotlib draws the marks (points, ranges, bands, error bars, grid lines, legend swatches)
as artists of the figure, placed by a transform from the data to the chart's plotting area;
the text (tick labels, session numbers, names, legends) is placed here as `Label`s, through
the same mapping, and svg.py writes it as `<text>`. Measured: every matplotlib text costs
about 0.6 ms of FreeType layout and every Axes about 10 ms of tick machinery, which made the
four charts of a brief take some 250 ms; drawn this way a chart takes 5–15 ms. It also keeps
user-provided names out of matplotlib altogether: they only ever become ElementTree text.

Deterministic: the same brief gives the same bytes (a fixed `svg.hashsalt` for marker ids,
no date). matplotlib is not thread-safe: every render holds `_LOCK` and builds its own
`Figure` (never pyplot, whose global state would outlive a render) inside an `rc_context`;
call these from a worker thread.
"""

import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
from markupsafe import Markup
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Affine2D, Transform
from matplotlib.typing import RcKeyType

from app.measures.instruments import InstrumentSpec, SafetyItem
from app.reports import formatting
from app.reports.brief_data import Brief, DayMood, MeasurePoint, PersonComparison, SessionMark
from app.reports.svg import Label, accessible_svg, text_width

# The width of an A4 page's text (210 mm less 2 × 17 mm margins is 499 pt): the charts print
# at about their own size, so 8 pt text is 8 pt on paper.
WIDTH = 480.0
TEXT_SIZE = 8.0
_HALF_LINE = TEXT_SIZE * 0.35  # from the middle of a line of text to its baseline

INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
MOOD = "#1f4e79"
MOOD_RANGE = "#a8c3df"
INTERVAL = "#fcefc7"  # the interval, here and in brief.css
SESSION = "#57606a"
FLAG = "#b42318"  # the page's warning colour (brief.css)
_SESSION_DASHES = (0, (3, 2))

_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "session-brief",  # marker ids from a fixed salt, not a random one
    # matplotlib draws no text here; should it ever, it stays text and "$" stays a dollar.
    "svg.fonttype": "none",
    "text.parse_math": False,
    "lines.solid_capstyle": "butt",
}
_LOCK = threading.Lock()
_POINT = 1 / 72  # inches
_LONGEST_GAP = 7  # days without entries that still join the mood line


# Severity bands from the lowest to the highest, pale enough to read the points and labels
# on; an instrument with fewer bands takes the first ones and ends on the last.
_BAND_RAMP = ("#eaf3e6", "#f5f2da", "#f8e8d2", "#f5dccd", "#f1cdc8")


def _band_colours(count: int) -> tuple[str, ...]:
    return _BAND_RAMP[: count - 1] + _BAND_RAMP[-1:]


def _flag_meaning(item: SafetyItem) -> str:
    return f"item {item.number} ({item.meaning}) above 0"


# ------------------------------------------------------------------------------ drawing


@dataclass(frozen=True, slots=True)
class _Frame:
    """A chart: its height, and its plotting area in points from its top left (SVG units)
    with the data at its edges."""

    height: float
    left: float
    top: float
    right: float
    bottom: float
    xs: tuple[float, float]  # the data at the left and right edges
    ys: tuple[float, float]  # at the bottom and top edges

    def x(self, value: float) -> float:
        return self.left + (value - self.xs[0]) * self._x_scale()

    def y(self, value: float) -> float:
        return self.bottom - (value - self.ys[0]) * self._y_scale()

    def data_to_points(self) -> Affine2D:
        """The same mapping as `x` and `y`, for matplotlib."""
        return (
            Affine2D()
            .translate(-self.xs[0], -self.ys[0])
            .scale(self._x_scale(), -self._y_scale())
            .translate(self.left, self.bottom)
        )

    def _x_scale(self) -> float:
        return (self.right - self.left) / (self.xs[1] - self.xs[0])

    def _y_scale(self) -> float:
        return (self.bottom - self.top) / (self.ys[1] - self.ys[0])


class _Canvas:
    """A figure to paint artists on, in the frame's data or in points from the top left."""

    def __init__(self, figure: Figure, frame: _Frame) -> None:
        self._figure = figure
        self.points: Transform = (
            Affine2D().scale(_POINT, -_POINT).translate(0, frame.height * _POINT)
            + figure.dpi_scale_trans
        )
        self.data: Transform = frame.data_to_points() + self.points
        self._painted = 0

    def paint(self, artist: Artist, *, in_points: bool = False) -> None:
        """Paint `artist` over everything painted before it."""
        artist.set_transform(self.points if in_points else self.data)
        artist.set_zorder(self._painted)  # a figure draws its artists by zorder
        self._painted += 1
        self._figure.add_artist(artist)


def _draw(frame: _Frame, paint: Callable[[_Canvas], None]) -> str:
    """matplotlib's SVG of a chart of `frame`'s size, painted by `paint`."""
    with _LOCK, matplotlib.rc_context(_RC):
        figure = Figure(figsize=(WIDTH * _POINT, frame.height * _POINT))
        figure.patch.set_visible(False)  # the page's background shows through
        paint(_Canvas(figure, frame))
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _segments(
    segments: Sequence[tuple[tuple[float, float], tuple[float, float]]],
    colour: str,
    width: float,
    dashes: Any = "solid",
) -> LineCollection:
    return LineCollection(segments, colors=colour, linewidths=width, linestyles=dashes)


def _markers(
    xs: Sequence[float], ys: Sequence[float], marker: str, size: float, colour: str, **more: Any
) -> Line2D:
    return Line2D(xs, ys, linestyle="none", marker=marker, markersize=size, color=colour, **more)


def _flags(xs: Sequence[float], ys: Sequence[float]) -> Line2D:
    """The item-9 marker: a red diamond, edged in white to stand off the line."""
    return _markers(xs, ys, "D", 7, FLAG, markeredgecolor="white", markeredgewidth=1)


def _horizontal_grid(canvas: _Canvas, frame: _Frame, values: Sequence[float]) -> None:
    canvas.paint(_segments([((frame.xs[0], v), (frame.xs[1], v)) for v in values], GRID, 0.6))


def _tick_marks(canvas: _Canvas, frame: _Frame, xs: Sequence[float]) -> None:
    """Short marks under the plotting area at data `xs`."""
    marks = [((frame.x(x), frame.bottom), (frame.x(x), frame.bottom + 3.5)) for x in xs]
    canvas.paint(_segments(marks, GRID, 0.8), in_points=True)


def _value_labels(frame: _Frame, values: Sequence[int]) -> list[Label]:
    return [
        Label(frame.left - 5, frame.y(value) + _HALF_LINE, str(value), MUTED, anchor="end")
        for value in values
    ]


# ------------------------------------------------------------------------------- legends

# A legend swatch: painted with (x, y) the middle of its left edge, in points.
_Swatch = Callable[[_Canvas, float, float], None]
_SWATCH_WIDTH = 14.0
_LEGEND_ROW = 13.0


@dataclass(frozen=True, slots=True)
class _Key:
    swatch: _Swatch
    text: str


@dataclass(frozen=True, slots=True)
class _Legend:
    """Keys in rows from the chart's left edge, wrapped at its width."""

    placed: tuple[tuple[_Key, float, float], ...]  # (key, x, the middle of its row)
    height: float

    @classmethod
    def of(cls, keys: Sequence[_Key], top: float) -> "_Legend":
        placed = []
        x, y = 0.0, top + _LEGEND_ROW / 2
        for key in keys:
            width = _SWATCH_WIDTH + 4 + text_width(key.text, TEXT_SIZE)
            if x > 0 and x + width > WIDTH:
                x, y = 0.0, y + _LEGEND_ROW
            placed.append((key, x, y))
            x += width + 16
        return cls(tuple(placed), y - top + _LEGEND_ROW / 2)

    def paint(self, canvas: _Canvas) -> None:
        for key, x, y in self.placed:
            key.swatch(canvas, x, y)

    def labels(self) -> list[Label]:
        return [
            Label(x + _SWATCH_WIDTH + 4, y + _HALF_LINE, key.text, INK) for key, x, y in self.placed
        ]


def _line_swatch(marker_size: float) -> _Swatch:
    def paint(canvas: _Canvas, x: float, y: float) -> None:
        canvas.paint(
            Line2D([x, x + _SWATCH_WIDTH], [y, y], color=MOOD, linewidth=1.2), in_points=True
        )
        canvas.paint(_markers([x + _SWATCH_WIDTH / 2], [y], "o", marker_size, MOOD), in_points=True)

    return paint


def _range_swatch(canvas: _Canvas, x: float, y: float) -> None:
    middle = x + _SWATCH_WIDTH / 2
    canvas.paint(_segments([((middle, y - 5), (middle, y + 5))], MOOD_RANGE, 5), in_points=True)


def _interval_swatch(canvas: _Canvas, x: float, y: float) -> None:
    canvas.paint(Rectangle((x, y - 5), _SWATCH_WIDTH, 10, color=INTERVAL), in_points=True)


def _session_swatch(canvas: _Canvas, x: float, y: float) -> None:
    middle = x + _SWATCH_WIDTH / 2
    line = _segments([((middle, y - 5), (middle, y + 5))], SESSION, 0.8, _SESSION_DASHES)
    canvas.paint(line, in_points=True)


def _flag_swatch(canvas: _Canvas, x: float, y: float) -> None:
    canvas.paint(_flags([x + _SWATCH_WIDTH / 2], [y]), in_points=True)


# ---------------------------------------------------------------------------------- days


def _day_axis(first: date, last: date) -> tuple[float, float]:
    """Days as numbers from `first`: each day spans [n, n + 1), its marks at n + 0.5."""
    return 0.0, float((last - first).days + 1)


def _at(day: date, first: date) -> float:
    return (day - first).days + 0.5


def _mondays(first: date, last: date) -> list[date]:
    """Mondays to label, at most ten: every week, or every second, third … week."""
    monday = date.fromordinal(first.toordinal() + (-first.weekday()) % 7)
    weeks = (last - monday).days // 7 + 1
    step = max(1, math.ceil(weeks / 10))
    return [date.fromordinal(monday.toordinal() + 7 * week) for week in range(0, weeks, step)]


def _day_labels(frame: _Frame, first: date, ticks: Sequence[date]) -> list[Label]:
    return [
        Label(
            frame.x(_at(day, first)),
            frame.bottom + 13,
            formatting.short_day(day),
            MUTED,
            anchor="middle",
        )
        for day in ticks
    ]


# ----------------------------------------------------------------------- mood over time


def mood_chart(brief: Brief, key: str) -> Markup:
    """Mean mood per day with entries and each day's lowest to highest, over the window;
    numbered session markers; the interval shaded."""
    first, last = brief.window_first_day, brief.last_day
    interval_first = max(brief.first_day or first, first)
    sessions = [session for session in brief.sessions if first <= session.day <= last]
    legend = _Legend.of(
        [
            _Key(_line_swatch(3), "mean mood that day"),
            _Key(_range_swatch, "lowest to highest"),
            _Key(_interval_swatch, "this interval"),
            _Key(_session_swatch, "session, numbered"),
        ],
        top=162,
    )
    frame = _Frame(
        height=162 + legend.height + 2,
        left=22,
        top=16,
        right=WIDTH - 4,
        bottom=140,
        xs=_day_axis(first, last),
        ys=(0, 10),
    )
    ticks = _mondays(first, last)
    means = ([_at(day.day, first) for day in brief.days], [day.mean for day in brief.days])

    def paint(canvas: _Canvas) -> None:
        shaded = _at(interval_first, first) - 0.5, _at(last, first) + 0.5
        canvas.paint(Rectangle((shaded[0], 0), shaded[1] - shaded[0], 10, color=INTERVAL))
        _horizontal_grid(canvas, frame, range(0, 11, 2))
        markers = [((x, 0), (x, 10)) for x in (_at(s.day, first) for s in sessions)]
        canvas.paint(_segments(markers, SESSION, 0.8, _SESSION_DASHES))
        day_width = frame.x(1) - frame.x(0)
        ranges = _day_ranges(brief.days, first)
        canvas.paint(Line2D(*ranges, color=MOOD_RANGE, linewidth=min(6.0, 0.6 * day_width)))
        canvas.paint(Line2D(*_mood_line(brief.days, first), color=MOOD, linewidth=1.2))
        canvas.paint(_markers(*means, "o", 3, MOOD))
        _tick_marks(canvas, frame, [_at(day, first) for day in ticks])
        legend.paint(canvas)

    labels = [
        *_value_labels(frame, range(0, 11, 2)),
        *_day_labels(frame, first, ticks),
        *(
            Label(
                frame.x(_at(s.day, first)), frame.top - 5, str(s.number), SESSION, anchor="middle"
            )
            for s in sessions
        ),
        *legend.labels(),
    ]
    desc = _mood_desc(brief, interval_first, sessions)
    return accessible_svg(_draw(frame, paint), key, "Mood over time", desc, labels)


def _day_ranges(days: Sequence[DayMood], first: date) -> tuple[list[float], list[float]]:
    """Each day's lowest to highest as a vertical stroke, all in one path (broken by NaNs)
    so that the SVG has one element for them, not one per day."""
    xs: list[float] = []
    ys: list[float] = []
    for day in days:
        xs += [_at(day.day, first)] * 2 + [math.nan]
        ys += [day.low, day.high, math.nan]
    return xs, ys


def _mood_line(days: Sequence[DayMood], first: date) -> tuple[list[float], list[float]]:
    """The means joined day to day, broken where more than a week has no entries."""
    xs: list[float] = []
    ys: list[float] = []
    for previous, day in zip((None, *days), days, strict=False):
        if previous is not None and (day.day - previous.day).days > _LONGEST_GAP:
            xs.append(math.nan)
            ys.append(math.nan)
        xs.append(_at(day.day, first))
        ys.append(day.mean)
    return xs, ys


def _mood_desc(brief: Brief, interval_first: date, sessions: Sequence[SessionMark]) -> str:
    numbers = formatting.number_span([session.number for session in sessions])
    markers = f"session markers {numbers}" if numbers else "no session in this time"
    return (
        f"Mean mood per day, and each day's lowest to highest, on {len(brief.days)} days with "
        f"entries from {formatting.day_span(brief.window_first_day, brief.last_day)}; "
        f"{markers}; the interval {formatting.day_span(interval_first, brief.last_day)} shaded."
    )


# ------------------------------------------------------------------------------ measures


def measure_chart(
    instrument: InstrumentSpec, points: Sequence[MeasurePoint], first: date, last: date, key: str
) -> Markup:
    """An instrument's totals from `first` to `last` over its severity bands; answers whose
    safety item is above 0 marked with a red diamond."""
    flagged = [point for point in points if (point.safety_answer or 0) > 0]
    scale = f"0{formatting.DASH}{instrument.highest}"
    keys = [_Key(_line_swatch(3.5), f"{instrument.name} total ({scale})")]
    if flagged and instrument.safety_item:
        keys.append(_Key(_flag_swatch, _flag_meaning(instrument.safety_item)))
    legend = _Legend.of(keys, top=136)
    frame = _Frame(
        height=136 + legend.height + 2,
        left=22,
        top=6,
        right=WIDTH - 96,
        bottom=114,
        xs=_day_axis(first, last),
        ys=(0, instrument.highest),
    )
    ticks = _mondays(first, last)
    bands = [
        (band.label, *_band_edges(instrument, band.lowest, band.highest))
        for band in instrument.bands
    ]

    def paint(canvas: _Canvas) -> None:
        for (_, bottom, top), colour in zip(bands, _band_colours(len(bands)), strict=True):
            width = frame.xs[1] - frame.xs[0]
            band = Rectangle((frame.xs[0], bottom), width, top - bottom, linewidth=0)
            band.set_facecolor(colour)
            canvas.paint(band)
        totals = [_at(p.day, first) for p in points], [p.total for p in points]
        canvas.paint(Line2D(*totals, color=MOOD, linewidth=1.2))
        canvas.paint(_markers(*totals, "o", 3.5, MOOD))
        canvas.paint(_flags([_at(p.day, first) for p in flagged], [p.total for p in flagged]))
        _tick_marks(canvas, frame, [_at(day, first) for day in ticks])
        legend.paint(canvas)

    labels = [
        *_value_labels(frame, [band.lowest for band in instrument.bands] + [instrument.highest]),
        *_day_labels(frame, first, ticks),
        *(
            Label(frame.right + 6, frame.y((bottom + top) / 2) + _HALF_LINE, label, MUTED)
            for label, bottom, top in bands
        ),
        *legend.labels(),
    ]
    title = f"{instrument.name} over time"
    desc = _measure_desc(instrument, points, flagged)
    return accessible_svg(_draw(frame, paint), key, title, desc, labels)


def _band_edges(instrument: InstrumentSpec, low: int, high: int) -> tuple[float, float]:
    """A band from halfway below its lowest total to halfway above its highest."""
    return max(0, low - 0.5), min(instrument.highest, high + 0.5)


def _measure_desc(
    instrument: InstrumentSpec, points: Sequence[MeasurePoint], flagged: Sequence[MeasurePoint]
) -> str:
    latest = points[-1]
    text = (
        f"{instrument.name} totals on {len(points)} {'day' if len(points) == 1 else 'days'} "
        f"from {formatting.day_span(points[0].day, latest.day)} over its severity bands; "
        f"the latest, {latest.total} on {formatting.short_day(latest.day)}, is "
        f"{latest.severity.replace('_', ' ')}"
    )
    if instrument.safety_item is not None:
        meaning = _flag_meaning(instrument.safety_item)
        text += f"; {len(flagged)} with {meaning}, marked with a red diamond"
    return text + "."


# ---------------------------------------------------------------- mood with each person

_ROW = 18.0
_NAME_LIMIT = 28


def people_chart(people: Sequence[PersonComparison], key: str) -> Markup:
    """For each person, mean mood with them minus without, with its 95% interval; a row
    with too few entries is muted and says so instead of drawing a difference."""
    names = [f"{_shortened(person.name)} ({person.entries})" for person in people]
    left = min(200.0, max(60.0, max(text_width(name, TEXT_SIZE) for name in names) + 10))
    reach = _reach(people)
    ticks = list(range(-reach, reach + 1, 1 if reach <= 4 else 2))
    frame = _Frame(
        height=len(people) * _ROW + 52,
        left=left,
        top=4,
        right=WIDTH - 8,
        bottom=len(people) * _ROW + 4,
        xs=(-reach, reach),
        ys=(len(people), 0),  # row 0 at the top
    )
    estimates = [
        (row + 0.5, estimate)
        for row, person in enumerate(people)
        if (estimate := _estimate(person)) is not None
    ]

    def paint(canvas: _Canvas) -> None:
        top, bottom = frame.ys[1], frame.ys[0]
        canvas.paint(_segments([((x, bottom), (x, top)) for x in ticks], GRID, 0.6))
        canvas.paint(_segments([((0, bottom), (0, top))], INK, 0.9))
        intervals = [((low, y), (high, y)) for y, (_, low, high) in estimates]
        canvas.paint(_segments(intervals, MOOD, 1.2))
        ends = [(x, y) for y, (_, low, high) in estimates for x in (low, high)]
        canvas.paint(_markers([x for x, _ in ends], [y for _, y in ends], "|", 6, MOOD))
        deltas = [delta for _, (delta, _, _) in estimates], [y for y, _ in estimates]
        canvas.paint(_markers(*deltas, "o", 4.5, MOOD))
        _tick_marks(canvas, frame, ticks)

    return accessible_svg(
        _draw(frame, paint),
        key,
        "Mood with each person",
        _people_desc(people),
        [*_people_labels(people, names, frame), *_difference_labels(frame, ticks)],
    )


def _people_labels(
    people: Sequence[PersonComparison], names: Sequence[str], frame: _Frame
) -> list[Label]:
    labels = []
    for row, (person, name) in enumerate(zip(people, names, strict=True)):
        baseline = frame.y(row + 0.5) + _HALF_LINE
        if _estimate(person) is None:
            labels.append(Label(frame.left - 8, baseline, name, MUTED, anchor="end"))
            labels.append(Label(frame.left + 6, baseline, "too few to say", MUTED, italic=True))
        else:
            labels.append(Label(frame.left - 8, baseline, name, INK, anchor="end"))
    return labels


def _difference_labels(frame: _Frame, ticks: Sequence[int]) -> list[Label]:
    caption = frame.bottom + 28
    return [
        *(
            Label(
                frame.x(tick),
                frame.bottom + 13,
                formatting.signed_integer(tick),
                MUTED,
                anchor="middle",
            )
            for tick in ticks
        ),
        Label(frame.x(0) - 6, caption, "← lower mood with them", MUTED, anchor="end"),
        Label(frame.x(0) + 6, caption, "higher mood with them →", MUTED),
        Label(
            frame.left,
            caption + 13,
            "mean mood with minus without (0–10 scale), 95% interval; entries in brackets",
            MUTED,
        ),
    ]


def _estimate(person: PersonComparison) -> tuple[float, float, float] | None:
    """(delta, low, high) when the person has enough entries to say anything."""
    if not person.enough or person.delta is None or person.delta_ci95 is None:
        return None
    return person.delta, *person.delta_ci95


def _reach(people: Sequence[PersonComparison]) -> int:
    """The axis's half width: every interval fits, and at least ±1."""
    ends = [abs(end) for person in people if (found := _estimate(person)) for end in found[1:]]
    return max(1, math.ceil(max(ends, default=1.0) * 1.05))


def _shortened(name: str) -> str:
    return name if len(name) <= _NAME_LIMIT else name[: _NAME_LIMIT - 1] + "…"


def _people_desc(people: Sequence[PersonComparison]) -> str:
    few = sum(1 for person in people if _estimate(person) is None)
    return (
        f"Mean mood with minus without each of {len(people)} people named in the interval, "
        f"with its 95% interval; {few} with too few entries to say."
    )

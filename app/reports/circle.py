"""The closeness circle's geometry: where each person of the inventory goes, which colour
their dot is, where their name fits. templates/closeness.svg draws it (no plotting library
draws this figure); nothing is computed in the template.

Three concentric rings, the inner one closeness 1; the client in the middle. Each ring's
people are spread evenly around it, starting half a step past the top so the ring's own
label there stays clear. Names are placed greedily, innermost ring first: the first of a few
positions around the dot (outward, further out, inward, beside, above, below) that overlaps
no name, dot or label already placed, else the least overlapping one.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from app.reports import formatting
from app.reports.brief_data import CirclePerson
from app.reports.svg import Label, text_width

WIDTH = 480.0
TEXT_SIZE = 8.0
INK = "#1f2328"
MUTED = "#636c76"
RING = "#d0d7de"
OUTLINE = "#57606a"
# Mean quality of contact, −2 (very bad) … +2 (very good): brown to teal, a diverging scale
# that reads in the common colour-vision deficiencies and is not the page's warning red.
QUALITY_SCALE = ("#a6611a", "#dfc27d", "#f1ede4", "#80cdc1", "#018571")
NOT_NAMED_FILL = "#ffffff"

_CENTRE = (WIDTH / 2, 196.0)
_RADII = (58.0, 118.0, 178.0)
_RING_NAMES = ("inner", "middle", "outer")
_DOT = 5.0
_NOT_NAMED_DOT = 3.5
_NAME_LIMIT = 20
_LEGEND_TOP = _CENTRE[1] + _RADII[-1] + 22

Anchor = Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class Dot:
    """A person, the client in the middle, or a legend swatch."""

    x: float
    y: float
    radius: float
    fill: str
    stroke: str
    dashed: bool


@dataclass(frozen=True, slots=True)
class Circle:
    """Everything closeness.svg draws, in points from the top left, in drawing order."""

    width: float
    height: float
    centre_x: float
    centre_y: float
    radii: tuple[float, ...]
    ring_colour: str
    dots: tuple[Dot, ...]
    labels: tuple[Label, ...]
    desc: str


@dataclass(frozen=True, slots=True)
class _Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlap(self, other: "_Box") -> float:
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        return max(0.0, width) * max(0.0, height)


_BOUNDS = _Box(0, 0, WIDTH, _LEGEND_TOP - 8)


def quality_colour(quality: float) -> str:
    """The scale's colour for a mean quality of contact, interpolated between its steps."""
    position = (min(2.0, max(-2.0, quality)) + 2) / 4 * (len(QUALITY_SCALE) - 1)
    low = min(int(position), len(QUALITY_SCALE) - 2)
    return _mix(QUALITY_SCALE[low], QUALITY_SCALE[low + 1], position - low)


def ring_name(closeness: int) -> str:
    return _RING_NAMES[closeness - 1]


def closeness_circle(circle: Sequence[CirclePerson], client_name: str) -> Circle:
    """The layout of `circle`'s people, `client_name` in the middle."""
    cx, cy = _CENTRE
    fixed = [
        *(
            Label(cx, cy - radius - 3, name, MUTED, 7.0, "middle")
            for radius, name in zip(_RADII, _RING_NAMES, strict=True)
        ),
        Label(cx, cy + 14, _shortened(client_name), INK, anchor="middle", bold=True),
    ]
    legend, legend_labels = _legend()
    people = _place(circle, [_label_box(label) for label in (*fixed, *legend_labels)])
    return Circle(
        width=WIDTH,
        height=_LEGEND_TOP + 24,
        centre_x=cx,
        centre_y=cy,
        radii=_RADII,
        ring_colour=RING,
        dots=(
            Dot(cx, cy, 3, INK, INK, False),
            *(dot for dot, _ in people),
            *legend,
        ),
        labels=(*fixed, *(label for _, label in people), *legend_labels),
        desc=_desc(circle),
    )


def _place(circle: Sequence[CirclePerson], taken: list[_Box]) -> list[tuple[Dot, Label]]:
    cx, cy = _CENTRE
    positions: list[tuple[CirclePerson, float, float, float]] = []
    for closeness, radius in enumerate(_RADII, start=1):
        ring = [person for person in circle if person.closeness == closeness]
        step = 2 * math.pi / max(1, len(ring))
        for index, person in enumerate(ring):
            angle = -math.pi / 2 + step / 2 + index * step
            positions.append(
                (person, angle, cx + radius * math.cos(angle), cy + radius * math.sin(angle))
            )
    taken += [_dot_box(x, y) for _, _, x, y in positions]
    placed = []
    for person, angle, x, y in positions:
        label = _best_label(person, angle, x, y, taken)
        taken.append(_label_box(label))
        placed.append((_dot(person, x, y), label))
    return placed


def _dot(person: CirclePerson, x: float, y: float) -> Dot:
    if person.mean_quality is None:
        return Dot(x, y, _NOT_NAMED_DOT, NOT_NAMED_FILL, OUTLINE, True)
    return Dot(x, y, _DOT, quality_colour(person.mean_quality), OUTLINE, False)


def _best_label(
    person: CirclePerson, angle: float, x: float, y: float, taken: Sequence[_Box]
) -> Label:
    """The first candidate that overlaps nothing, else the least overlapping one."""
    text = _shortened(person.name) + (" †" if person.deceased else "")
    colour = INK if person.mean_quality is not None else MUTED
    best, best_overlap = None, math.inf
    for px, py, anchor in _candidates(angle, x, y):
        label = Label(px, py, text, colour, anchor=anchor)
        box = _label_box(label)
        if not _inside(box, _BOUNDS):
            continue
        overlap = sum(box.overlap(other) for other in taken)
        if overlap == 0:
            return label
        if overlap < best_overlap:
            best, best_overlap = label, overlap
    return best or Label(x + _DOT + 3, y + TEXT_SIZE * 0.35, text, colour)


def _candidates(angle: float, x: float, y: float) -> Iterable[tuple[float, float, Anchor]]:
    """Where a name may go, best first: (x, baseline, anchor)."""
    ux, uy = math.cos(angle), math.sin(angle)
    half = TEXT_SIZE * 0.35  # from a line's middle to its baseline
    for distance in (_DOT + 3, _DOT + 15):
        px, py = x + ux * distance, y + uy * distance
        if ux > 0.4:
            yield px, py + half, "start"
        elif ux < -0.4:
            yield px, py + half, "end"
        else:
            yield px, (py - 2 if uy < 0 else py + TEXT_SIZE), "middle"
    yield x - ux * (_DOT + 3), y - uy * (_DOT + 3) + half, "end" if ux > 0 else "start"
    yield x + _DOT + 3, y + half, "start"
    yield x - _DOT - 3, y + half, "end"
    yield x, y - _DOT - 3, "middle"
    yield x, y + _DOT + 3 + TEXT_SIZE * 0.8, "middle"


def _label_box(label: Label) -> _Box:
    width = text_width(label.text, label.size)
    left = {"start": label.x, "middle": label.x - width / 2, "end": label.x - width}[label.anchor]
    return _Box(left, label.y - label.size * 0.8, left + width, label.y + label.size * 0.25)


def _dot_box(x: float, y: float) -> _Box:
    return _Box(x - _DOT - 1, y - _DOT - 1, x + _DOT + 1, y + _DOT + 1)


def _inside(box: _Box, bounds: _Box) -> bool:
    return (
        box.left >= bounds.left
        and box.top >= bounds.top
        and box.right <= bounds.right
        and box.bottom <= bounds.bottom
    )


def _legend() -> tuple[tuple[Dot, ...], tuple[Label, ...]]:
    """The quality scale's five steps, a person not named, and the mark of one who died."""
    y = _LEGEND_TOP
    dots = []
    labels = [Label(0, y + 3, "Mean quality of contact in the interval:", INK)]
    x = 176.0
    for quality in range(-2, 3):
        text = formatting.signed_integer(quality)
        dots.append(Dot(x, y, _DOT, quality_colour(quality), OUTLINE, False))
        labels.append(Label(x + 8, y + 3, text, MUTED))
        x += 30
    labels.append(Label(176.0 - 8, y + 17, "very bad", MUTED))
    labels.append(Label(x - 30 + 14, y + 17, "very good", MUTED, anchor="end"))
    x += 10
    dots.append(Dot(x, y, _NOT_NAMED_DOT, NOT_NAMED_FILL, OUTLINE, True))
    labels += [
        Label(x + 8, y + 3, "not named in it", MUTED),
        Label(x + 80, y + 3, "† has died", MUTED),
    ]
    return tuple(dots), tuple(labels)


def _desc(circle: Sequence[CirclePerson]) -> str:
    counts = [sum(1 for p in circle if p.closeness == ring) for ring in (1, 2, 3)]
    named = sum(1 for person in circle if person.mean_quality is not None)
    return (
        f"The {len(circle)} people of the interpersonal inventory in three rings by "
        f"closeness: {counts[0]} inner, {counts[1]} middle, {counts[2]} outer; {named} named "
        "in the interval, coloured by the mean quality of contact from −2 (brown) to +2 (teal)."
    )


def _shortened(name: str) -> str:
    return name if len(name) <= _NAME_LIMIT else name[: _NAME_LIMIT - 1] + "…"


def _mix(low: str, high: str, share: float) -> str:
    channels = (
        round(int(low[i : i + 2], 16) * (1 - share) + int(high[i : i + 2], 16) * share)
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{channel:02x}" for channel in channels)

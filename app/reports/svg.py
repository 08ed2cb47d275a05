"""Turn matplotlib's SVG into an element fit for an accessible page under a strict CSP.

`accessible_svg` parses the SVG matplotlib wrote (never user input), then:

- drops `<metadata>` and `<style>`, and moves every `style="…"` declaration (and the
  stylesheet's one `*{…}` rule) into SVG presentation attributes, which a CSP `style-src`
  does not govern; a property outside the allowlist raises, so a matplotlib upgrade that
  writes something new fails the tests instead of shipping unstyled or blocked charts;
- prefixes every referenced id with the chart's key, drops the others, and rewrites the
  references (`href`, `url(#…)`), so several charts can share one page;
- adds the chart's text (`Label`s: the charts place their own, see charts.py), and
  `role="img"` with a `<title>` and a `<desc>` that name and describe it.

Text is only ever set as element text or attribute values through ElementTree, which escapes
it: user-provided names cannot become markup.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_DROPPED = frozenset({"metadata", "style"})
_PRESENTATION = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "fill-rule",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
    }
)
_URL_REFERENCE = re.compile(r"url\(#([^)]+)\)")
_UNIVERSAL_RULE = re.compile(r"\*\s*\{([^}]*)\}")
# The page's font (brief.css), so the charts' text matches the text around them.
FONT_FAMILY = "DejaVu Sans, Verdana, sans-serif"


@dataclass(frozen=True, slots=True)
class Label:
    """A line of text on a chart, in the figure's SVG units (points from its top left)."""

    x: float
    y: float  # the baseline
    text: str
    colour: str
    size: float = 8.0
    anchor: Literal["start", "middle", "end"] = "start"
    bold: bool = False
    italic: bool = False


def text_width(text: str, size: float) -> float:
    """An estimate, a little generous, of a text's width in DejaVu Sans (whose mean advance
    is about 0.55 em): enough to lay out labels without measuring each with FreeType."""
    return len(text) * size * 0.6


def accessible_svg(
    svg: str, key: str, title: str, desc: str, labels: Sequence[Label] = ()
) -> Markup:
    """`svg` as a tidy inline `<svg>` element with `labels`, named by `title`, described by
    `desc`; every id in it starts with `key`."""
    root = ET.fromstring(svg)  # noqa: S314 (matplotlib's own output, not user input)
    _unqualify_tags(root)
    root_rules = _drop_elements(root)
    _styles_to_attributes(root)
    for name, value in root_rules:
        root.set(name, value)
    _scope_ids(root, key)
    _unwrap_bare_groups(root)
    _compact(root)
    root.append(_labels(labels))
    label(root, key, title, desc)
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704 (built by ElementTree)


def label(root: ET.Element, key: str, title: str, desc: str) -> None:
    """Make `root` an image named by a `<title>` and described by a `<desc>`.

    `aria-labelledby` points at the title alone (pointing it at both would make the whole
    description the image's name); `aria-describedby` at the description.
    """
    root.set("role", "img")
    root.set("aria-labelledby", f"{key}-title")
    root.set("aria-describedby", f"{key}-desc")
    root[0:0] = [_text("title", f"{key}-title", title), _text("desc", f"{key}-desc", desc)]


def _unqualify_tags(root: ET.Element) -> None:
    """Plain tag names, serialised as `<svg xmlns="…">` without registering a global
    ElementTree prefix (which other code in the process would then share)."""
    prefix = f"{{{SVG_NAMESPACE}}}"
    for element in root.iter():
        element.tag = element.tag.removeprefix(prefix)
    root.set("xmlns", SVG_NAMESPACE)


def _drop_elements(root: ET.Element) -> list[tuple[str, str]]:
    """Remove `<metadata>` and `<style>`; return the stylesheet's declarations, which all
    apply to every element (`*{…}`) and so become inherited attributes of the root."""
    declarations: list[tuple[str, str]] = []
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag not in _DROPPED:
                continue
            if child.tag == "style":
                declarations += _universal_declarations(child.text or "")
            parent.remove(child)
    for emptied in [child for child in root if child.tag == "defs" and len(child) == 0]:
        root.remove(emptied)
    return declarations


def _universal_declarations(css: str) -> list[tuple[str, str]]:
    rules = _UNIVERSAL_RULE.fullmatch(css.strip())
    if rules is None:
        raise ValueError(f"unexpected stylesheet in a chart: {css!r}")
    return _declarations(rules.group(1))


def _styles_to_attributes(root: ET.Element) -> None:
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style is not None:
            for name, value in _declarations(style):
                element.set(name, value)


def _declarations(css: str) -> list[tuple[str, str]]:
    declarations = []
    for declaration in filter(None, (part.strip() for part in css.split(";"))):
        name, _, value = declaration.partition(":")
        name = name.strip()
        if name not in _PRESENTATION:
            raise ValueError(f"a chart uses a style property with no attribute: {name}")
        declarations.append((name, value.strip()))
    return declarations


def _scope_ids(root: ET.Element, key: str) -> None:
    referenced: set[str] = set()
    for element in root.iter():
        href = element.attrib.pop(_XLINK_HREF, None) or element.get("href")
        if href is not None:
            if not href.startswith("#"):
                raise ValueError(f"a chart refers outside itself: {href}")
            referenced.add(href[1:])
            element.set("href", f"#{key}-{href[1:]}")
        for name, value in element.items():
            if "url(#" in value:
                referenced.update(_URL_REFERENCE.findall(value))
                element.set(name, _URL_REFERENCE.sub(rf"url(#{key}-\1)", value))
    for element in root.iter():
        ident = element.attrib.pop("id", None)
        if ident in referenced:
            element.set("id", f"{key}-{ident}")


def _unwrap_bare_groups(element: ET.Element) -> None:
    """Put the children of each `<g>` with no attributes left in its place: matplotlib wraps
    every artist in one (for its ids), and every element costs the PDF renderer time."""
    children: list[ET.Element] = []
    for child in element:
        _unwrap_bare_groups(child)
        children += list(child) if child.tag == "g" and not child.attrib else [child]
    element[:] = children


def _compact(root: ET.Element) -> None:
    """Drop the indentation and the line breaks inside path data: a third of the bytes."""
    for element in root.iter():
        element.text = None if element.text is None or element.text.isspace() else element.text
        element.tail = None
        if "d" in element.attrib:
            element.set("d", " ".join(element.attrib["d"].split()))


def _labels(labels: Iterable[Label]) -> ET.Element:
    group = ET.Element("g", {"font-family": FONT_FAMILY})
    for item in labels:
        text = ET.SubElement(
            group,
            "text",
            {
                "x": _number(item.x),
                "y": _number(item.y),
                "fill": item.colour,
                "font-size": _number(item.size),
            },
        )
        if item.anchor != "start":
            text.set("text-anchor", item.anchor)
        if item.bold:
            text.set("font-weight", "bold")
        if item.italic:
            text.set("font-style", "italic")
        text.text = item.text
    return group


def _number(value: float) -> str:
    """Coordinates to a tenth of a point: enough on paper, and stable across platforms."""
    return f"{value:.1f}".removesuffix(".0")


def _text(tag: str, ident: str, text: str) -> ET.Element:
    element = ET.Element(tag, id=ident)
    element.text = text
    return element

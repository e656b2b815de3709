"""The rules that decide what an HTML element's winning declarations hide: :func:`_gone` (the element and all its
content is hidden: ``display: none``, off screen, clipped to nothing, transparent…) and :func:`_context` with
:func:`_unreadable` (what an element inherits, and whether text drawn in it cannot be read: too small, transparent,
or the colour of its background), with the thresholds they use. See :mod:`index.html_visibility` for the rules in
words and the walk that applies them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.css import Color, color, px

__all__ = ["MIN_FONT_PX", "OFFSCREEN_PX", "OFFVIEW_PX", "VIEWPORT_PX", "MAX_INVISIBLE_ALPHA", "MAX_COLOR_DIFF"]

MIN_FONT_PX = 2.0  # 1.5 pt: smaller text is a speck, not something anyone reads
OFFSCREEN_PX = 1000.0  # moved this far left or up, an element is off every screen (the usual values are -9999px)
OFFVIEW_PX = 200.0  # a fixed box (or an absolute one placed on the page) this far above or left of the page is unseen
VIEWPORT_PX = (1920.0, 1080.0)  # what % of the viewport means for fixed boxes (index.css reads vw/vh alike)
MAX_INVISIBLE_ALPHA = 0.05  # opacity or colour alpha at or below this shows nothing
MAX_COLOR_DIFF = 24.0  # text within this many steps (0-255, every channel) of its background cannot be read

_RGB = tuple[float, float, float]
_WHITE: _RGB = (255.0, 255.0, 255.0)
_BLACK: Color = (0.0, 0.0, 0.0, 1.0)
_SIZE_WORDS = {"xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
               "xx-large": 32.0, "xxx-large": 48.0}
_KEEP = ("inherit", "unset", "revert", "revert-layer")
_ARGS = re.compile(r"(translate|translatex|translatey|translate3d|scale|scalex|scaley|scale3d)\(([^)]*)\)")


@dataclass(frozen=True)
class _Ctx:
    """What an element inherits: text colour (None: unknown), background behind it (None: an image or unknown),
    font size in px, and whether a text shadow draws the glyphs even in a transparent colour."""

    color: Color | None = _BLACK
    background: _RGB | None = _WHITE
    font_px: float = 16.0
    shadow: bool = False
    unreadable: bool = False  # text drawn in this context cannot be seen (see _unreadable)
    contained: bool = False  # an ancestor is positioned: absolute boxes are placed in it, not on the page
    variables: dict[str, str] = field(default_factory=dict)  # custom properties (inherited), resolved


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        return None


def _far(value: str | None, font_px: float) -> bool:
    length = px(value, font_px) if value else None
    return length is not None and length <= -OFFSCREEN_PX


def _transform_hides(value: str, font_px: float) -> bool:
    for name, args in _ARGS.findall(value):
        parts = [a for a in re.split(r"[\s,]+", args.strip()) if a]
        if name.startswith("scale"):
            flat = parts[:2] if name == "scale3d" else parts
            if any(_number(p) == 0 for p in flat):
                return True
        else:
            moved = parts if name in ("translate", "translate3d", "translatex", "translatey") else []
            if any(_far(p, font_px) for p in moved[:2]):
                return True
    return False


def _sides(values: list[str]) -> list[str]:
    top = values[0]
    right = values[1] if len(values) > 1 else top
    return [top, right, values[2] if len(values) > 2 else top, values[3] if len(values) > 3 else right]


def _clip_empty(clip: str | None, clip_path: str | None, font_px: float) -> bool:
    m = re.fullmatch(r"rect\(([^)]*)\)", clip or "")
    if m:
        parts = [a for a in re.split(r"[\s,]+", m.group(1).strip()) if a]
        if len(parts) == 4:
            top, right, bottom, left = (px(p, font_px) for p in parts)
            if (top is not None and bottom is not None and bottom <= top) or (
                    left is not None and right is not None and right <= left):
                return True
    m = re.match(r"(inset|circle|ellipse)\(([^)]*)\)", clip_path or "")
    if m is None:
        return False
    parts = [a for a in m.group(2).split(" round ")[0].replace(",", " ").split() if a]
    if m.group(1) == "inset" and 1 <= len(parts) <= 4 and all(p.endswith("%") for p in parts):
        top, right, bottom, left = (_number(p) or 0.0 for p in _sides(parts))
        return top + bottom >= 1 or left + right >= 1
    return m.group(1) != "inset" and bool(parts) and _number(parts[0].removesuffix("px")) == 0


def _filter_alpha(value: str | None) -> float:
    """How much of an element ``filter: opacity(…)`` lets show (1 without one)."""
    alpha = 1.0
    for arg in re.findall(r"opacity\(([^)]*)\)", value or ""):
        a = _number(arg.strip())
        if a is not None:
            alpha *= max(0.0, min(1.0, a))
    return alpha


def _off_view(d: dict[str, str], font_px: float, contained: bool) -> bool:
    """A fixed box, or an absolute one placed on the page, that lies entirely above or left of it."""
    position = d.get("position")
    if position != "fixed" and (position != "absolute" or contained):
        return False
    for side, size, extent in (("top", "height", VIEWPORT_PX[1]), ("left", "width", VIEWPORT_PX[0])):
        if side not in d:
            continue
        offset = px(d[side], font_px, percent_of=extent)
        own = px(d[size], font_px, percent_of=extent) if size in d else None
        if offset is not None and offset <= -max(OFFVIEW_PX, own or 0.0):
            return True
    return False


def _gone(el, d: dict[str, str], font_px: float, contained: bool = False) -> bool:
    """Whether the element and everything inside it is hidden from a visitor (``contained``: an ancestor is
    positioned)."""
    if el.tag == "template" or el.get("hidden") is not None:
        return True
    if (el.get("aria-hidden") or "").strip().lower() == "true":
        return True
    if not d:
        return False
    if d.get("display") == "none" or d.get("visibility") in ("hidden", "collapse"):
        return True
    if d.get("content-visibility") == "hidden":
        return True
    opacity = _number(d.get("opacity"))
    if opacity is not None and opacity <= MAX_INVISIBLE_ALPHA:
        return True
    if "filter" in d and _filter_alpha(d["filter"]) <= MAX_INVISIBLE_ALPHA:
        return True
    if _off_view(d, font_px, contained):
        return True
    if d.get("position", "static") not in ("static", "inherit", "initial", "unset") and any(
            _far(d.get(side), font_px) for side in ("left", "top", "right", "bottom")):
        return True
    if _far(d.get("margin-left"), font_px) or _far(d.get("margin-top"), font_px):
        return True
    clips = d.get("overflow-x") in ("hidden", "clip") or d.get("overflow-y") in ("hidden", "clip")
    indent = d.get("text-indent", "")
    if _far(indent, font_px):
        return True
    if clips and indent:
        pushed = px(indent, font_px, percent_of=100 * OFFSCREEN_PX)
        if pushed is not None and pushed >= OFFSCREEN_PX:  # 100% or more of the box, or 1000px: Kellum's method
            return True
    if _transform_hides(d.get("transform", ""), font_px) or _clip_empty(d.get("clip"), d.get("clip-path"), font_px):
        return True
    if clips:
        for prop in ("width", "height"):
            size = px(d[prop], font_px) if prop in d else None
            if size is not None and size <= 1:
                return True
    return False


def _font_px(value: str, parent: float) -> float:
    if value in _SIZE_WORDS:
        return _SIZE_WORDS[value]
    if value in ("smaller", "larger"):
        return parent / 1.2 if value == "smaller" else parent * 1.2
    if value == "initial":
        return 16.0
    size = px(value, parent, percent_of=parent)
    return parent if size is None or size < 0 else size


def _blend(fore: Color, back: _RGB) -> _RGB:
    a = fore[3]
    return (fore[0] * a + back[0] * (1 - a), fore[1] * a + back[1] * (1 - a), fore[2] * a + back[2] * (1 - a))


def _context(d: dict[str, str], parent: _Ctx, variables: dict[str, str]) -> _Ctx:
    font = _font_px(d["font-size"], parent.font_px) if "font-size" in d else parent.font_px
    text = parent.color
    value = d.get("color")
    if value is not None and value not in (*_KEEP, "currentcolor"):
        text = _BLACK if value == "initial" else color(value)
    back = parent.background
    image = d.get("background-image", "none")
    value = d.get("background-color")
    if image not in ("none", "initial", *_KEEP):
        back = None  # a picture: it may be dark, the text may show
    elif value is not None and value not in ("initial", "none", *_KEEP):
        paint = text if value == "currentcolor" else color(value)
        if paint is None:
            back = None
        elif paint[3] > MAX_INVISIBLE_ALPHA:
            back = _blend(paint, back) if back is not None else (paint[:3] if paint[3] >= 1 else None)
    shadow = parent.shadow
    value = d.get("text-shadow")
    if value is not None and value not in _KEEP:
        shadow = value not in ("none", "initial")
    contained = parent.contained or d.get("position", "static") not in ("static", "initial", "unset", "inherit") or (
        d.get("transform", "none") not in ("none", "initial", "unset", "inherit"))
    return _Ctx(text, back, font, shadow, _unreadable(text, back, font, shadow), contained, variables)


def _unreadable(text: Color | None, back: _RGB | None, font_px: float, shadow: bool) -> bool:
    """Whether text drawn so cannot be seen (too small, transparent, or the colour of its background)."""
    if font_px < MIN_FONT_PX:
        return True
    if shadow or text is None:
        return False
    if text[3] <= MAX_INVISIBLE_ALPHA:
        return True
    if back is None:
        return False
    shown = _blend(text, back)
    return max(abs(a - b) for a, b in zip(shown, back, strict=True)) <= MAX_COLOR_DIFF


"""The PDF graphics vocabulary :mod:`index.pdf_visibility` works in: matrices and boxes in default user space,
device colours as RGB, a font's advance widths, resource lookup, and the records of what a page draws (the graphics
state saved by ``q``, each string shown, each painted area, each form drawn)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypdf.generic import NameObject

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in default user space
RGB = tuple[float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_UNBOUNDED: Box = (-1e30, -1e30, 1e30, 1e30)  # a page without a usable media box: no position is off it
_COLOR_OPERANDS = {b"g": 1, b"rg": 3, b"k": 4}
_FILLS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_PAINTS = _FILLS | {b"S", b"s", b"n"}
_NORMAL_BLEND = ("/Normal", "/Compatible")
_DEVICE = {"/DeviceGray": 1, "/G": 1, "/CalGray": 1, "/DeviceRGB": 3, "/RGB": 3, "/CalRGB": 3, "/DeviceCMYK": 4,
           "/CMYK": 4}


def _mult(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF's row-vector convention: a point goes through ``m`` first)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3], m[2] * n[0] + m[3] * n[2],
            m[2] * n[1] + m[3] * n[3], m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _box(m: Matrix, x0: float, y0: float, x1: float, y1: float) -> Box:
    """Bounding box of the rectangle (x0, y0)-(x1, y1) after ``m``."""
    xs, ys = [], []
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        xs.append(m[0] * x + m[2] * y + m[4])
        ys.append(m[1] * x + m[3] * y + m[5])
    return (min(xs), min(ys), max(xs), max(ys))


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _intersect(a: Box | None, b: Box) -> Box | None:
    if a is None:
        return None
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _nums(operands: list[Any], count: int) -> list[float]:
    values = [float(v) for v in operands[:count]]
    if len(values) != count:
        raise ValueError("missing operands")
    return values


def _matrix(value: Any, default: tuple[float, ...], count: int) -> list[float]:
    """A numeric array from a dictionary entry (possibly an indirect object), or ``default``."""
    value = value.get_object() if value is not None else None
    return _nums(list(value), count) if isinstance(value, list) else list(default)


def _rgb(values: list[float]) -> RGB | None:
    if len(values) == 1:
        return (values[0],) * 3
    if len(values) == 3:
        return (values[0], values[1], values[2])
    if len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


def _contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@dataclass(frozen=True)
class _Widths:
    """Advance widths of a font's codes, in thousandths of an em; ``two_bytes``: codes are two bytes (Identity)."""

    widths: dict[int, float]
    default: float
    two_bytes: bool

    def advance(self, raw: bytes, size: float, char_space: float, word_space: float, h_scale: float) -> float:
        step = 2 if self.two_bytes else 1
        total = 0.0
        for i in range(0, len(raw) - step + 1, step):
            code = int.from_bytes(raw[i : i + step], "big")
            total += self.widths.get(code, self.default) / 1000 * size + char_space
            if step == 1 and code == 32:
                total += word_space
        return total * h_scale


def _font_widths(font: Any) -> _Widths | None:
    """The advance widths of a simple font, or of a composite one with the Identity encoding; None otherwise."""
    try:
        from pypdf.generic._font import Font  # noqa: PLC0415 - pypdf's reader of /Widths, /W and the core metrics
    except ImportError:
        return None
    try:
        subtype = font.get("/Subtype")
        if subtype == "/Type3":
            return None  # glyph space is the font's own matrix
        two = subtype == "/Type0"
        if two and font.get("/Encoding") not in ("/Identity-H", "/Identity-V"):
            return None
        parsed = Font.from_font_resource(font)
        widths = {ord(k): float(v) for k, v in parsed.character_widths.items() if len(k) == 1}
        default = float(parsed.character_widths.get("default", 1000))
        return _Widths(widths, default, two) if widths or two else None
    except Exception:  # noqa: BLE001 - a font pypdf cannot read: its strings are never judged covered
        return None


def _is_string(value: Any) -> bool:
    return isinstance(value, bytes) or (isinstance(value, str) and not isinstance(value, NameObject))


def _resource(resources: Any, kind: str, name: Any) -> Any:
    """``resources[kind][name]``, resolved, or None."""
    try:
        return resources[kind].get_object()[name].get_object()
    except (KeyError, TypeError, AttributeError):
        return None


@dataclass
class _State:
    """The parts of the graphics state that decide whether text shows (saved by ``q``, restored by ``Q``)."""

    ctm: Matrix
    clip: Box | None  # bounding box of the clipping path; None when nothing can show
    fill: RGB | None = (0.0, 0.0, 0.0)  # None: a colour not read here (pattern, spot colour): never "white"
    stroke: RGB | None = (0.0, 0.0, 0.0)
    fill_n: int = 1  # components of the fill colour space (0: not a device-like space)
    stroke_n: int = 1
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0
    blend_normal: bool = True  # blend mode Normal and no soft mask: an opaque fill hides what lies under it
    widths: _Widths | None = None  # the current font's advance widths (None: unknown)
    mode: int = 0  # text render mode (Tr)
    font_size: float = 12.0
    font_scale: float = 1.0  # a Type 3 font's glyph space relative to the usual 1/1000
    h_scale: float = 1.0
    char_space: float = 0.0
    word_space: float = 0.0
    leading: float = 0.0
    rise: float = 0.0


@dataclass
class _Shown:
    """One string the page shows, and what decides whether it can be seen."""

    operands: list[Any]  # the operator's operands, or the TJ array the string is an element of
    slot: int  # where the string is in that list
    ops: list[Any]  # the operation list it belongs to (to know which streams changed)
    box: Box | None  # where it may lie on the page; None when clipped away entirely
    seq: int
    tiny: bool
    invisible: bool
    white: bool
    glyphs: Box | None = None  # where its glyphs lie, from the font's widths (None: unknown)
    colors: tuple[RGB | None, ...] = ()  # the colours its glyphs are painted in


@dataclass(frozen=True)
class _Paint:
    """An area painted on the page: a filled shape (its colour; opaque when it hides what lies under it), an image
    or a shading (colour unknown)."""

    box: Box
    seq: int
    image: bool
    rgb: RGB | None = None
    opaque: bool = False


@dataclass
class _Form:
    """A form XObject drawn by ``ops[index]``: its own parsed operations, rebuilt when something inside is blanked."""

    ops: list[Any]
    index: int
    resources: Any
    xobject: Any
    child_ops: list[Any]

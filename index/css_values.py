"""CSS values read where text visibility depends on them: colours (hex, ``rgb()``/``hsl()`` in both syntaxes, a
short list of named colours, ``transparent``) and lengths in CSS pixels.

Named colours are the basic ones and the near-white and grey shades (what hides text on a white page); any other
name reads as "not a colour read here", which only ever means "no opinion", never "hidden".

>>> color("rgb(255 255 255 / 50%)"), color("papayawhip"), px("-999em", 16), px("12pt", 16)
((255.0, 255.0, 255.0, 0.5), None, -15984.0, 16.0)
"""

from __future__ import annotations

import colorsys
import re

__all__ = ["Color", "color", "px"]

Color = tuple[float, float, float, float]  # red, green, blue (0-255), alpha (0-1)
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)$")
_UNIT_PX = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6,
            "rem": 16.0, "vw": 19.2, "vh": 10.8, "vmin": 10.8, "vmax": 19.2}
_FONT_RELATIVE = {"em": 1.0, "ex": 0.5, "ch": 0.5, "cap": 0.7, "lh": 1.2}


_NAMED = {
    "black": "#000", "white": "#fff", "red": "#f00", "lime": "#0f0", "green": "#008000", "blue": "#00f",
    "yellow": "#ff0", "cyan": "#0ff", "aqua": "#0ff", "magenta": "#f0f", "fuchsia": "#f0f", "gray": "#808080",
    "grey": "#808080", "silver": "#c0c0c0", "maroon": "#800000", "olive": "#808000", "navy": "#000080",
    "purple": "#800080", "teal": "#008080", "orange": "#ffa500", "snow": "#fffafa", "ivory": "#fffff0",
    "whitesmoke": "#f5f5f5", "ghostwhite": "#f8f8ff", "floralwhite": "#fffaf0", "azure": "#f0ffff",
    "mintcream": "#f5fffa", "aliceblue": "#f0f8ff", "seashell": "#fff5ee", "linen": "#faf0e6",
    "honeydew": "#f0fff0", "lavenderblush": "#fff0f5", "oldlace": "#fdf5e6", "beige": "#f5f5dc",
    "lightgray": "#d3d3d3", "lightgrey": "#d3d3d3", "gainsboro": "#dcdcdc", "darkgray": "#a9a9a9",
    "darkgrey": "#a9a9a9", "dimgray": "#696969", "dimgrey": "#696969",
}


def _channel(text: str, scale: float = 255.0) -> float:
    text = text.strip()
    if text.endswith("%"):
        return max(0.0, min(scale, float(text[:-1]) * scale / 100))
    return max(0.0, min(scale, float(text)))


def color(value: str) -> Color | None:
    """A CSS colour as (r, g, b, alpha), ``transparent`` as alpha 0; None for what is not a colour read here."""
    value = value.strip().lower()
    if value == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    value = _NAMED.get(value, value)
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) in (3, 4):
            digits = "".join(ch * 2 for ch in digits)
        if len(digits) not in (6, 8) or not re.fullmatch(r"[0-9a-f]+", digits):
            return None
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (float(int(digits[0:2], 16)), float(int(digits[2:4], 16)), float(int(digits[4:6], 16)), alpha)
    m = re.fullmatch(r"(rgba?|hsla?)\((.*)\)", value)
    if m is None:
        return None
    parts = [p for p in re.split(r"[\s,/]+", m.group(2).strip()) if p]
    if len(parts) not in (3, 4):
        return None
    try:
        alpha = _channel(parts[3], 1.0) if len(parts) == 4 else 1.0
        if m.group(1).startswith("rgb"):
            r, g, b = (_channel(p) for p in parts[:3])
        else:
            hue = float(parts[0].removesuffix("deg")) / 360 % 1.0
            sat, light = _channel(parts[1], 1.0), _channel(parts[2], 1.0)
            r, g, b = (c * 255 for c in colorsys.hls_to_rgb(hue, light, sat))
    except ValueError:
        return None
    return (r, g, b, alpha)


def px(value: str, font_px: float, percent_of: float | None = None) -> float | None:
    """A length in CSS pixels (``em`` from ``font_px``, ``%`` of ``percent_of``); None when it cannot be told."""
    m = _LENGTH.match(value.strip())
    if m is None:
        return None
    number, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        return None if percent_of is None else number * percent_of / 100
    if unit in _FONT_RELATIVE:
        return number * font_px * _FONT_RELATIVE[unit]
    if unit in _UNIT_PX:
        return number * _UNIT_PX[unit]
    return 0.0 if number == 0 else None

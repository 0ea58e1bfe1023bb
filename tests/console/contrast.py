"""WCAG 2.x contrast, computed from CSS colours: our own small checker (no dependency).

Used twice: on the stylesheet's declared colour pairs (``test_contrast.py``, no browser) and on the
colours a real browser computed for every piece of text on a page (``tests/browser/harness.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NORMAL_TEXT = 4.5  # WCAG 1.4.3 (AA)
LARGE_TEXT = 3.0  # 18.66 px bold or 24 px and larger

_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$", re.IGNORECASE)
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$")
_NAMED = {"white": "#ffffff", "black": "#000000", "transparent": "rgba(0, 0, 0, 0)"}


@dataclass(frozen=True)
class Colour:
    r: float
    g: float
    b: float
    a: float = 1.0

    def over(self, below: Colour) -> Colour:
        """This colour painted over an opaque ``below`` (alpha compositing)."""
        a = self.a
        return Colour(
            self.r * a + below.r * (1 - a), self.g * a + below.g * (1 - a), self.b * a + below.b * (1 - a)
        )


def parse(text: str) -> Colour:
    """``#rgb``, ``#rrggbb``, ``rgb()``/``rgba()`` (as browsers report computed colours), a few names."""
    value = _NAMED.get(text.strip().lower(), text.strip())
    found = _HEX.match(value)
    if found:
        digits = found.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return Colour(*(int(digits[i : i + 2], 16) for i in (0, 2, 4)))
    found = _RGB.match(value)
    if not found:
        raise ValueError(f"not a colour this checker reads: {text!r}")
    alpha = found.group(4)
    a = 1.0 if alpha is None else float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha)
    return Colour(float(found.group(1)), float(found.group(2)), float(found.group(3)), a)


def _channel(value: float) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: Colour) -> float:
    return 0.2126 * _channel(colour.r) + 0.7152 * _channel(colour.g) + 0.0722 * _channel(colour.b)


def ratio(foreground: Colour, background: Colour) -> float:
    """The contrast ratio (1 to 21) of text in ``foreground`` on an opaque ``background``."""
    fg = foreground.over(background) if foreground.a < 1 else foreground
    lighter, darker = sorted((luminance(fg), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def required(font_px: float, weight: int) -> float:
    large = font_px >= 24 or (font_px >= 18.66 and weight >= 700)
    return LARGE_TEXT if large else NORMAL_TEXT


def effective_background(layers: list[str]) -> Colour:
    """The opaque colour behind an element, from its own background outwards to the root's (the
    computed ``background-color`` of each ancestor), over the canvas's white."""
    colour = Colour(255, 255, 255)
    for layer in reversed(layers):
        colour = parse(layer).over(colour)
    return colour

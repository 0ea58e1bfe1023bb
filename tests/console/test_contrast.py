"""The contrast checker's arithmetic, and the console stylesheet's own colour pairs checked with it
(no browser: the browser tests check the colours each page actually computes)."""

from __future__ import annotations

import re

import pytest

from showfloor.server.console.web import STATIC_DIR
from tests.console import contrast

CSS = re.sub(r"/\*.*?\*/", "", (STATIC_DIR / "console.css").read_text(), flags=re.DOTALL)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_DECL = re.compile(r"(?:^|;)\s*(color|background(?:-color)?)\s*:\s*([^;]+)")


def _variables() -> dict[str, str]:
    root = next(body for selector, body in _RULE.findall(CSS) if selector.strip() == ":root")
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+)", root))


def _resolve(value: str, variables: dict[str, str]) -> str:
    value = value.strip()
    found = re.fullmatch(r"var\((--[\w-]+)\)", value)
    return variables[found.group(1)].strip() if found else value


def _declared_pairs() -> list[tuple[str, str, str]]:
    """(selector, colour, background) of every rule that sets both."""
    variables = _variables()
    pairs = []
    for selector, body in _RULE.findall(CSS):
        declared = {
            name.replace("-color", ""): _resolve(value, variables) for name, value in _DECL.findall(body)
        }
        if "color" in declared and "background" in declared and declared["background"] != "transparent":
            pairs.append((selector.strip(), declared["color"], declared["background"]))
    return pairs


def test_the_ratio_matches_wcag_reference_values() -> None:
    assert contrast.ratio(contrast.parse("#000"), contrast.parse("#ffffff")) == pytest.approx(21.0)
    assert contrast.ratio(contrast.parse("#777777"), contrast.parse("white")) == pytest.approx(4.48, abs=0.01)
    assert contrast.ratio(contrast.parse("rgb(0, 0, 255)"), contrast.parse("#fff")) == pytest.approx(
        8.59, abs=0.01
    )
    # Half-transparent black on white is mid grey: alpha is composited before the ratio.
    half = contrast.parse("rgba(0, 0, 0, 0.5)")
    assert contrast.ratio(half, contrast.parse("#fff")) == pytest.approx(3.98, abs=0.01)
    assert contrast.effective_background(["rgba(0, 0, 0, 0)", "rgb(20, 35, 58)"]) == contrast.parse("#14233a")
    assert (
        contrast.required(16, 400) == 4.5
        and contrast.required(19, 700) == 3.0
        and contrast.required(24, 400) == 3.0
    )
    with pytest.raises(ValueError):
        contrast.parse("hsl(0, 0%, 0%)")


def test_every_colour_pair_the_stylesheet_declares_is_readable() -> None:
    pairs = _declared_pairs()
    assert len(pairs) >= 8  # the parser found the stylesheet's pairs (buttons, badges, notices, header)
    weak = [
        (selector, round(contrast.ratio(contrast.parse(fg), contrast.parse(bg)), 2))
        for selector, fg, bg in pairs
        if contrast.ratio(contrast.parse(fg), contrast.parse(bg)) < contrast.NORMAL_TEXT
    ]
    assert weak == []


def test_text_colours_are_readable_on_the_page_and_card_backgrounds() -> None:
    variables = _variables()
    for text in ("--ink", "--muted", "--accent", "--danger", "--ok"):
        for background in ("--bg", "--card"):
            found = contrast.ratio(contrast.parse(variables[text]), contrast.parse(variables[background]))
            assert found >= contrast.NORMAL_TEXT, (text, background, found)

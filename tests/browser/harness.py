"""The system Chromium (``/usr/bin/chromium``) driven by Playwright, screenshots, and the accessibility
check every page gets: axe-core (vendored, ``assets/``) for labels, names, contrast and structure,
plus a keyboard walk of our own (every Tab stop visible, with a visible focus indicator)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

CHROMIUM = os.environ.get("SHOWFLOOR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASSETS = Path(__file__).parent / "assets"
AXE_SOURCE = (ASSETS / "axe-4.14.1.min.js").read_text()
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
MAX_TAB_STOPS = 60


def chromium_or_skip() -> str:
    """The browser's path. Missing: skipped locally, a failure under CI (``.ci/run`` installs it)."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it with apt-get", pytrace=False)
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the current page (an empty list is a pass)."""
    page.evaluate(AXE_SOURCE + "\n;0")  # evaluated by the driver, so the page's CSP does not block it
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


_FOCUS_PROBE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {tag: el.tagName, text: (el.innerText || el.value || el.name || '').slice(0, 40),
          visible: box.width > 0 && box.height > 0 && style.visibility !== 'hidden',
          indicator: outline || shadow};
}"""


def keyboard_problems(page: Page) -> list[str]:
    """Tab through the page: every stop must be visible and show a focus indicator."""
    problems: list[str] = []
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    stops = 0
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        info = page.evaluate(_FOCUS_PROBE)
        if info is None:
            break
        stops += 1
        if not info["visible"]:
            problems.append(f"focus on an invisible {info['tag']} {info['text']!r}")
        elif not info["indicator"]:
            problems.append(f"no focus indicator on {info['tag']} {info['text']!r}")
    if stops == 0:
        problems.append("no element takes keyboard focus")
    return problems


def check_accessibility(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe on {page.url}: {violations}"
    problems = keyboard_problems(page)
    assert problems == [], f"keyboard on {page.url}: {problems}"

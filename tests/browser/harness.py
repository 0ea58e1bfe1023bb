"""The system Chromium (``/usr/bin/chromium``) driven by Playwright, screenshots, and the accessibility
check every page gets: axe-core (vendored, ``assets/``) for labels, names, contrast and structure, and
checks of our own that do not depend on it: every field labelled and every control named, a keyboard
walk (every focusable control reached by Tab, every stop visible with a focus indicator), and the
contrast of every piece of text computed from the colours the browser resolved (``contrast.py``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.console import contrast

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


# Marks every control Tab should reach (enabled, rendered, not tabindex=-1) with data-a11y-stop.
_MARK_FOCUSABLE = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  let n = 0;
  for (const el of document.querySelectorAll(sel)) {
    el.removeAttribute('data-a11y-stop');
    if (el.disabled || el.getAttribute('tabindex') === '-1') continue;
    if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
    el.setAttribute('data-a11y-stop', String(n++));
  }
  return n;
}"""

_FOCUS_PROBE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {tag: el.tagName, text: (el.innerText || el.value || el.name || '').slice(0, 40),
          stop: el.getAttribute('data-a11y-stop'),
          visible: box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
                   && box.right > 0 && box.bottom > 0,
          indicator: outline || shadow};
}"""


def keyboard_problems(page: Page) -> list[str]:
    """Tab through the page: every stop must be visible and show a focus indicator, and every control
    that should take focus must be reached (nothing only a mouse can use)."""
    problems: list[str] = []
    expected = page.evaluate(_MARK_FOCUSABLE)
    # Start from the top of the document: focus a throwaway anchor placed first (blurring alone keeps
    # the browser's starting point where an autofocused field was).
    page.evaluate(
        "() => { const s = document.createElement('span'); s.id = 'a11y-start'; s.tabIndex = -1;"
        " document.body.prepend(s); s.focus(); window.scrollTo(0, 0); }"
    )
    reached: set[str] = set()
    stops, previous = 0, None
    for _ in range(3 * expected + 5):  # one lap; a date field takes a Tab per part (day, month, year)
        page.keyboard.press("Tab")
        info = page.evaluate(_FOCUS_PROBE)
        if info is not None and info["stop"] is not None and info["stop"] == previous:
            continue  # still inside the same field
        if info is None or (info["stop"] is not None and info["stop"] in reached):
            break  # left the page, or came round again
        previous = info["stop"]
        stops += 1
        if info["stop"] is not None:
            reached.add(info["stop"])
        if not info["visible"]:
            problems.append(f"focus on an invisible {info['tag']} {info['text']!r}")
        elif not info["indicator"]:
            problems.append(f"no focus indicator on {info['tag']} {info['text']!r}")
    if stops == 0:
        problems.append("no element takes keyboard focus")
    missed = [str(n) for n in range(expected) if str(n) not in reached]
    if missed:
        names = page.evaluate(
            "(ids) => ids.map(i => { const e = document.querySelector(`[data-a11y-stop='${i}']`);"
            " return e.tagName + ' ' + (e.innerText || e.name || e.id || '').slice(0, 30); })",
            missed[:5],
        )
        problems.append(f"{len(missed)} control(s) never reached by Tab, e.g. {names}")
    page.evaluate("() => document.getElementById('a11y-start')?.remove()")
    return problems


_NAMES_PROBE = """() => {
  const text = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const byIds = (ids) => text((ids || '').split(/\\s+/).map(i => {
    const e = document.getElementById(i); return e ? e.textContent : ''; }).join(' '));
  const out = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const name = text(el.getAttribute('aria-label')) || byIds(el.getAttribute('aria-labelledby'))
      || text(Array.from(el.labels || []).map(l => l.textContent).join(' '));
    if (!name) out.push(`${el.tagName.toLowerCase()} name=${el.name || '?'} has no label`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const img = Array.from(el.querySelectorAll('img[alt]')).map(i => i.alt).join(' ');
    const name = text(el.getAttribute('aria-label')) || byIds(el.getAttribute('aria-labelledby'))
      || text(el.textContent) || text(img);
    if (!name) out.push(`${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 60)} has no name`);
  }
  return out;
}"""


def label_problems(page: Page) -> list[str]:
    """Every field has a label (``<label for>``, a wrapping label, aria-label or aria-labelledby) and
    every button and link a name."""
    problems: list[str] = page.evaluate(_NAMES_PROBE)
    return problems


# Every element with text of its own (or SVG text): its colour, the background of it and of each
# ancestor outwards, and its font size and weight. Text hidden from view (visually-hidden, skipped
# off-screen, disabled controls) is exempt, as WCAG exempts it.
_TEXT_PROBE = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.disabled || ['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName)) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || box.right <= 0 || box.bottom <= 0) continue;
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const svg = el instanceof SVGElement;
    const layers = [];
    let image = false;
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.backgroundImage && s.backgroundImage !== 'none') image = true;
      if (!(a instanceof SVGElement)) layers.push(s.backgroundColor);
    }
    out.push({what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : el.className && !svg ? '.' + el.className : '')
                    + ' ' + JSON.stringify(el.textContent.trim().slice(0, 30)),
              colour: svg ? style.fill : style.color, layers, image,
              size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10) || 400});
  }
  return out;
}"""


def contrast_problems(page: Page) -> list[str]:
    """Text whose computed colour on its computed background is below WCAG AA (4.5:1, 3:1 for large
    text). Text over a background image cannot be computed this way and is reported as such."""
    problems: list[str] = []
    for item in page.evaluate(_TEXT_PROBE):
        if item["image"]:
            problems.append(f"{item['what']}: text over a background image")
            continue
        background = contrast.effective_background(item["layers"])
        found = contrast.ratio(contrast.parse(item["colour"]), background)
        needed = contrast.required(item["size"], item["weight"])
        if found < needed:
            problems.append(f"{item['what']}: {found:.2f}:1, needs {needed}:1")
    return problems


def check_accessibility(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe on {page.url}: {violations}"
    assert label_problems(page) == [], f"labels on {page.url}: {label_problems(page)}"
    assert contrast_problems(page) == [], f"contrast on {page.url}: {contrast_problems(page)}"
    problems = keyboard_problems(page)
    assert problems == [], f"keyboard on {page.url}: {problems}"

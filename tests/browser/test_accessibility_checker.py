"""The accessibility checks of our own catch what they are for: a page made to fail each one."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.harness import contrast_problems, keyboard_problems, label_problems, screenshot

BAD_PAGE = """<!doctype html><html lang="en"><head><title>bad</title><style>
  body { background: #ffffff; color: #1b1f24; }
  .pale { color: #aaaaaa; }
  .dark-box { background: #14233a; color: #1f3050; }
  .big { font-size: 30px; color: #888888; }
  button { outline: none; }
  .tiny-card { background: rgba(0, 0, 0, 0.5); color: #333333; }
</style></head><body>
  <p>Readable text.</p>
  <p class="pale">Too pale on white.</p>
  <div class="dark-box">Dark on dark.</div>
  <p class="big">Large grey text passes at 3:1.</p>
  <div class="tiny-card">Dark text on a half-black layer.</div>
  <input name="unlabelled" type="text">
  <label for="ok">Labelled</label><input id="ok" name="ok" type="text">
  <button type="button"></button>
  <button type="button" style="outline: none" onfocus="this.style.outline='none'">No ring</button>
  <div style="display:none"><button type="button">Hidden, not a stop</button></div>
</body></html>"""


def test_the_checks_report_a_page_built_to_fail_them(page: Page) -> None:
    page.set_content(BAD_PAGE)
    screenshot(page, "accessibility-checker-bad-page")
    weak = contrast_problems(page)
    assert any("Too pale" in p for p in weak) and any("Dark on dark" in p for p in weak)
    assert any("half-black" in p for p in weak)
    assert not any("Readable" in p or "Large grey" in p for p in weak)
    labels = label_problems(page)
    assert any("name=unlabelled has no label" in p for p in labels)
    assert not any("name=ok " in p for p in labels)
    assert any(p.startswith("button") and "has no name" in p for p in labels)
    keyboard = keyboard_problems(page)
    assert any("no focus indicator" in p and "No ring" in p for p in keyboard)
    assert not any("Hidden" in p for p in keyboard)


def test_a_control_tab_cannot_reach_is_reported(page: Page) -> None:
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title><style>:focus{outline:2px solid #000}</style>'
        "</head><body><a href='#a'>First</a>"
        "<div id='trap' tabindex='0' onkeydown=\"event.key==='Tab' && event.preventDefault()\">Trap</div>"
        "<button type='button'>After the trap</button></body></html>"
    )
    screenshot(page, "accessibility-checker-keyboard-trap")
    problems = keyboard_problems(page)
    assert any("never reached by Tab" in p and "After the trap" in p for p in problems), problems

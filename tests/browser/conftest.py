"""Browser tests: the system Chromium, one persistent context with an empty profile for the package,
cookies cleared before each test. Every test saves screenshots under var/screenshots/.

Package scope, not session: Playwright's sync API keeps an event loop running in this thread while it
is open, and the async tests that follow need the thread to themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.browser.harness import CHROMIUM_ARGS, chromium_or_skip
from tests.browser.server import Site, start_site


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    chromium_or_skip()
    yield from start_site(tmp_path_factory.mktemp("console-site"))


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser_context(
    playwright_driver: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    profile: Path = tmp_path_factory.mktemp("chromium-profile")  # a new, empty user-data-dir
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium_or_skip(),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: BrowserContext, site: Site) -> Iterator[Page]:
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    yield tab
    tab.close()

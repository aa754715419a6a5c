"""One `korpu up` and one Chromium for the module's tests; each test a browser of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright import sync_api

from support import browser


@pytest.fixture(scope="module")
def chromium() -> str:
    """The machine's Chromium, or the test skipped with the one line saying how to get it."""
    path = browser.chromium()
    if path is None:
        pytest.skip(browser.MISSING)
    return path


@pytest.fixture(scope="module")
def system(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[browser.System]:
    # Asked for after Chromium, so a machine without it starts no processes for nothing.
    with browser.running(tmp_path_factory.mktemp("browser") / "data", browser.ONE_TRY) as up:
        yield up


@pytest.fixture(scope="module")
def chromium_browser(chromium: str) -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        started = browser.launch(playwright)
        yield started
        started.close()


@pytest.fixture
def page(chromium_browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    """A fresh browser profile (no cookies) at the screenshots' width; at the end, no script
    failed and the Content-Security-Policy blocked nothing (htmx runs under it)."""
    context = chromium_browser.new_context(viewport=browser.VIEWPORT)
    opened = context.new_page()
    broken: list[str] = []
    opened.on("pageerror", lambda error: broken.append(str(error)))
    opened.on(
        "console",
        lambda line: broken.append(line.text) if "Content Security Policy" in line.text else None,
    )
    yield opened
    context.close()
    assert broken == []

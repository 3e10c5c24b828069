"""Playwright on the system Chromium (Debian's /usr/bin/chromium), shared by browser tests.

No `playwright install`: the browser comes from the system. A test takes `page`: a fresh
browser page on pytest-django's `live_server`, with a real database (`transactional_db`).

The browser starts after the database is set up, and stops before it is flushed: while
Playwright's event loop runs, Django sees a running loop, so the test's ORM calls need
DJANGO_ALLOW_ASYNC_UNSAFE and use a connection of their own.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# A failed browser test leaves a screenshot of its page here.
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "var/test-screenshots"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser(transactional_db, monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # The test's ORM calls ran beside Playwright's event loop, on connections of their
        # own: close them here, or the test database cannot be dropped at the end.
        connections.close_all()


@pytest.fixture
def page(request, live_server, browser):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
        if report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return report

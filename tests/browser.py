"""Debian's Chromium driven by Playwright, shared by every browser test.

One browser per test module (`browser` fixture in conftest.py); each
test opens its own context, so no cookies or storage leak between tests.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests import clock

playwright_api = pytest.importorskip("playwright.sync_api", reason="install the test extras: make test")
expect = playwright_api.expect

CHROMIUM = os.environ.get("CHROMIUM_PATH") or next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def launch_browser():
    """A context manager yielding a headless Chromium (never a downloaded one)."""
    if CHROMIUM is None:
        pytest.fail("Chromium is needed for the browser tests: `make test` installs it (scripts/ensure-tools.sh).")
    import contextlib

    @contextlib.contextmanager
    def running():
        with playwright_api.sync_playwright() as p:
            # Chromium keeps the real clock (tests/clock.py): nothing it shows depends on it
            # (cookies carry Max-Age, times come from the servers).
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                        env=clock.real_env())
            try:
                yield browser
            finally:
                browser.close()

    return running()


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    return page


def open_chat(page):
    page.get_by_role("button", name="Abrir el chat de soporte").click()
    expect(page.get_by_role("dialog", name="Soporte · Cuenta de Prepago")).to_be_visible()


def sign_in(page, account):
    page.get_by_role("button", name=f"Entrar como cliente demo {account}").click()
    expect(page.locator(".pc-status")).to_have_text(f"Sesión iniciada · cuenta {account}")


def ask(page, text):
    before = page.locator(".pc-bot").count()
    page.get_by_label("Tu mensaje").fill(text)
    page.get_by_label("Tu mensaje").press("Enter")
    expect(page.locator(".pc-typing")).to_be_hidden(timeout=30000)
    expect(page.locator(".pc-bot")).not_to_have_count(before)
    return page.locator(".pc-log").inner_text()

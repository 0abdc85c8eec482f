"""Headless chromium for the tests that look at a page in a real browser (Debian's chromium and chromedriver).

The tests are skipped with the reason when the browser is missing, unless CI sets HMREC_REQUIRE_BROWSER=1:
then a missing browser is a failure. Selenium is pointed at /usr/bin/chromedriver so it never downloads one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: CI sets this: there a missing browser is a failure, not a skip
REQUIRED = os.environ.get("HMREC_REQUIRE_BROWSER") == "1"
HAVE_BROWSER = os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)

browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_BROWSER and not REQUIRED,
        reason="chromium or chromedriver missing (apt-get install chromium chromium-driver)",
    ),
]


def needs_browser(test: Any) -> Any:
    """Mark one test as a browser test (a module marks all of its tests with ``pytestmark = browser_marks``)."""
    for mark in reversed(browser_marks):
        test = mark(test)
    return test


@contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """A headless chromium driven by Selenium, its window ``width`` x ``height`` pixels, its profile removed
    afterwards."""
    if not HAVE_BROWSER:
        pytest.fail(f"HMREC_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="hmrec-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

"""The web page in a real browser: headless chromium driven by Selenium against `hmrec serve`.

Needs Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them); skipped with the reason when they
are missing (tests/browser_support.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import browser_marks, chromium

#: set to a folder to save the README's screenshots (serve-desktop.png, serve-phone.png, serve-article.png)
SCREENSHOTS = os.environ.get("HMREC_SCREENSHOTS")

pytestmark = browser_marks

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(1280, 1000) as driver:
        yield driver


def wait(driver: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def rec_names(driver: Any, side: str) -> list[str]:
    # read in one script: the list may be re-rendered between two element look-ups
    script = f"return [...document.querySelectorAll('#recs-{side} li.rec .name')].map((e) => e.textContent)"
    names: list[str] = driver.execute_script(script)
    return names


def test_look_up_a_customer_compare_models_open_an_article(
    browser: Any, bundles: Path, tiny: Any, serve_process: Any
) -> None:
    customer = str(tiny.customer_ids[42])
    with serve_process(bundles) as url:
        browser.set_window_size(1280, 1000)
        browser.get(url + "/")
        wait(browser, lambda d: len(Select(d.find_element(By.ID, "model-a")).options) == 2)
        box = browser.find_element(By.ID, "customer-id")
        box.send_keys(customer)
        browser.find_element(By.ID, "lookup").click()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#recs-a li.rec")) == 12)
        assert customer in browser.find_element(By.ID, "profile").text
        purchases = browser.find_elements(By.CSS_SELECTOR, "#purchases li")
        assert len(purchases) >= 1 and "20" in purchases[0].text  # a date is shown
        assert browser.find_element(By.ID, "name-a").text == "als"
        assert browser.find_element(By.ID, "name-b").text == "popularity-decay"
        assert browser.find_elements(By.CSS_SELECTOR, "#recs-a li.rec .badge")[0].text in {"als", "bought-before"}
        als_list = rec_names(browser, "a")
        pop_list = rec_names(browser, "b")
        assert len(pop_list) == 12 and als_list != pop_list
        if SCREENSHOTS:
            browser.save_screenshot(str(Path(SCREENSHOTS) / "serve-desktop.png"))

        # switch the main model: the left column now shows popularity-decay's list
        Select(browser.find_element(By.ID, "model-a")).select_by_value("popularity-decay")
        wait(browser, lambda d: d.find_element(By.ID, "name-a").text == "popularity-decay")
        wait(browser, lambda d: rec_names(d, "a") == pop_list)

        # an article's own view: its sales chart and who buys it
        first = browser.find_element(By.CSS_SELECTOR, "#recs-a li.rec .name a")
        name = first.text
        first.click()
        wait(browser, ec.visibility_of_element_located((By.ID, "article-view")))
        wait(browser, lambda d: name in d.find_element(By.ID, "article-card").text)
        assert browser.find_elements(By.CSS_SELECTOR, "#sales-chart svg polyline")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#buyers .bar")) == 8
        # and its two lists, bought together and similar, as the API gives them for the model shown
        import httpx

        article_id = browser.current_url.rsplit("/", 1)[-1]
        for list_id, kind in (("together", "bought-together"), ("similar", "similar")):
            served = httpx.get(f"{url}/v1/articles/{article_id}/similar",
                               params={"kind": kind, "model": "popularity-decay"}).json()["items"]
            assert served, f"the article has a {kind} list"
            script = f"return [...document.querySelectorAll('#{list_id} li .name')].map((e) => e.textContent)"
            wait(browser, lambda d, script=script, served=served: d.execute_script(script) == [
                i["name"] for i in served
            ])
        if SCREENSHOTS:
            browser.save_screenshot(str(Path(SCREENSHOTS) / "serve-article.png"))

        # phone width: the same page, one column
        browser.set_window_size(390, 844)
        Select(browser.find_element(By.ID, "model-a")).select_by_value("als")
        browser.get(f"{url}/#/customer/{customer}")
        wait(browser, lambda d: rec_names(d, "a") == als_list)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")  # nothing sticks out sideways
        if SCREENSHOTS:
            browser.execute_script("document.getElementById('column-a').scrollIntoView()")
            browser.save_screenshot(str(Path(SCREENSHOTS) / "serve-phone.png"))

        # a random customer: one who bought something, with their purchases and 12 recommendations
        browser.get(f"{url}/")
        wait(browser, lambda d: len(Select(d.find_element(By.ID, "model-a")).options) == 2)
        browser.find_element(By.ID, "random").click()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#recs-a li.rec")) == 12)
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#purchases li")) >= 1)
        assert len(browser.find_element(By.ID, "customer-id").get_attribute("value")) == 64

        # an unknown customer: the cold start, said on the page; a malformed id: the API's one-line error
        browser.set_window_size(1280, 1000)
        browser.get(f"{url}/#/customer/{'0' * 64}")
        wait(browser, lambda d: "cold start" in d.find_element(By.ID, "note-a").text)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#recs-a li.rec")) == 12
        browser.get(f"{url}/#/customer/not-an-id")
        wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed())
        assert browser.find_element(By.ID, "error").text.startswith("customer_id:")

"""The console in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium with the system driver: nothing is downloaded): sign in, filter, open a decision,
verify the chain, run a replay, see the charts render; a screenshot of each main page in
var/screenshots/; axe-core (pinned, installed from npm into var/axe by
scripts/ensure-axe.sh) on every main page, with no serious or critical violation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import AUDITOR_KEY, GATEWAY_KEY, ROOT, Server
from tests.console_support import console_server
from tests.local_services import unavailable
from tests.savings_support import DAY

SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP = (1366, 768)
#: The main pages, as (screenshot name, path).
MAIN_PAGES = [
    ("overview", "/ui?since=all"),
    ("decisions", "/ui/decisions"),
    ("decision", "/ui/decisions/s-0003"),
    ("chain", "/ui/chain"),
    ("replay", "/ui/replay"),
    ("savings", f"/ui/savings?since={DAY}&until=2026-11-21"),
]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = console_server(ROOT, tmp_path_factory.mktemp("console-browser"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        unavailable(
            "Debian's chromium and chromium-driver are needed: run scripts/ensure-chromium.sh"
            " (make test does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=ChromeService(executable_path=driver_path))
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def at_laptop_size(driver: WebDriver) -> None:
    driver.set_window_size(*LAPTOP)


def screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page at the laptop's width, in var/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(LAPTOP[0], max(LAPTOP[1], height))
    path = SCREENSHOTS / f"{name}.png"
    try:
        assert driver.save_screenshot(str(path))
    finally:
        at_laptop_size(driver)
    assert path.stat().st_size > 10_000
    return path


def click_and_wait(driver: WebDriver, element: WebElement) -> None:
    """Click something that loads a page, and wait until the new page replaced the old."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 60).until(lambda _: replaced(old))


def replaced(old: WebElement) -> bool:
    """Whether ``old`` left the page: stale, or (asked while Chrome swaps the document)
    "does not belong to the document", which ``staleness_of`` does not take for stale."""
    try:
        old.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def text_of(driver: WebDriver, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


def sign_in(driver: WebDriver, server: Server, key: str) -> None:
    driver.get(server.url + "/ui/sign-in")
    field = driver.find_element(By.ID, "f-key")
    field.clear()
    field.send_keys(key)
    click_and_wait(
        driver,
        driver.find_element(By.CSS_SELECTOR, "form[action='/ui/sign-in'] button[type=submit]"),
    )


# --------------------------------------------------------------------------- the flow


def test_a_gateway_key_cannot_sign_in(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + "/ui/decisions")
    assert "Sign in with an auditor or admin key" in text_of(browser, "main")
    screenshot(browser, "sign-in")
    sign_in(browser, server, GATEWAY_KEY)
    assert "has the role gateway" in text_of(browser, "main")
    browser.get(server.url + "/ui/decisions")
    assert browser.find_elements(By.ID, "f-key"), "still the sign-in form"


def test_sign_in_and_see_the_charts_render(browser: WebDriver, server: Server) -> None:
    sign_in(browser, server, AUDITOR_KEY)
    assert browser.current_url == server.url + "/ui"
    browser.get(server.url + "/ui?since=all")
    assert "key-" in text_of(browser, ".who")
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg[role=img]")
    assert len(charts) >= 4
    for chart in charts:
        size = chart.size
        assert size["width"] > 300 and size["height"] > 150, chart.get_attribute("aria-label")
        bars = chart.find_elements(By.CSS_SELECTOR, ".series rect, .series path")
        drawn = [bar for bar in bars if bar.size["width"] > 0 and bar.size["height"] > 0]
        assert drawn, f"no bar drawn in {chart.get_attribute('aria-label')}"
    assert browser.execute_script("return document.scripts.length") == 0
    screenshot(browser, "overview")


def test_filter_the_decisions_and_open_one(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + "/ui/decisions")
    Select(browser.find_element(By.ID, "f-segment")).select_by_value("on_prem_only")
    browser.find_element(By.ID, "f-tenant").send_keys("acme")
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]")
    )
    assert "segment=on_prem_only" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.decisions tbody tr")
    assert len(rows) >= 6
    segments = browser.find_elements(By.CSS_SELECTOR, "table.decisions .badge[class*=seg-]")
    badges = {badge.text for badge in segments}
    assert badges == {"on_prem_only"}
    tenants = {row.find_elements(By.TAG_NAME, "td")[3].text for row in rows}
    assert tenants == {"acme"}
    screenshot(browser, "decisions")
    link = rows[0].find_element(By.CSS_SELECTOR, "a")
    decision_id = link.text
    click_and_wait(browser, link)
    assert decision_id in text_of(browser, "h1")
    assert "on_prem_only" in text_of(browser, ".tiles")
    reasons = text_of(browser, "section[aria-labelledby=h-reasons]")
    assert "isolation." in reasons
    screenshot(browser, "decision")


def test_verify_the_chain(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + "/ui/chain")
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "form[action='/ui/chain'] button")
    )
    result = text_of(browser, "section.result.ok")
    assert "OK: 45 records, hash chain intact" in result
    screenshot(browser, "chain")


def test_replay_a_candidate(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + "/ui/replay")
    Select(browser.find_element(By.ID, "f-candidate")).select_by_visible_text("tenant-lock")
    since = browser.find_element(By.ID, "f-since")
    since.clear()
    since.send_keys("2026-01-01")
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "form[action='/ui/replay'] button")
    )
    assert "16 of 43 decisions would change" in text_of(browser, "#h-replay")
    screenshot(browser, "replay")
    example = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-replay] td a")
    decision_id = example.text
    click_and_wait(browser, example)
    assert decision_id in text_of(browser, "h1")


def test_savings_page(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + f"/ui/savings?since={DAY}&until=2026-11-21")
    tiles = text_of(browser, ".tiles")
    assert "$0.0024" in tiles and "$0.0211" in tiles and "(88.71 %)" in tiles
    chart = browser.find_element(By.CSS_SELECTOR, "figure.chart svg[role=img]")
    assert chart.size["height"] > 150
    screenshot(browser, "savings")


# --------------------------------------------------------------------------- every main page


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2.1 A/AA and best practices)."""
    if not AXE.exists():
        unavailable(f"axe-core is needed at {AXE}: run scripts/ensure-axe.sh (make test does)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
           .then(result => done(JSON.stringify(result.violations)))
           .catch(error => done(JSON.stringify([{id: "axe-error", impact: "critical",
                                                 description: String(error), nodes: []}])));
        """
    )
    violations: list[dict[str, Any]] = json.loads(found)
    return violations


@pytest.mark.parametrize(("name", "path"), MAIN_PAGES)
def test_main_pages_are_accessible_and_fit_a_laptop(
    browser: WebDriver, server: Server, name: str, path: str
) -> None:
    at_laptop_size(browser)
    browser.get(server.url + path)
    assert browser.find_elements(By.CSS_SELECTOR, "main h1"), f"{name}: no page heading"
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow}px wider than a 1366px screen"
    serious = [v for v in axe_violations(browser) if v.get("impact") in SERIOUS]
    assert not serious, [
        (v["id"], v["impact"], v["description"], [n.get("target") for n in v["nodes"][:3]])
        for v in serious
    ]


def test_the_accessibility_check_finds_a_broken_page(browser: WebDriver, server: Server) -> None:
    """The check above is not vacuous: a field whose label is removed is reported."""
    browser.get(server.url + "/ui/decisions")
    browser.execute_script("document.querySelector('label[for=f-tenant]').remove()")
    found = {v["id"]: v["impact"] for v in axe_violations(browser)}
    assert found.get("label") in SERIOUS


def test_sign_out(browser: WebDriver, server: Server) -> None:
    browser.get(server.url + "/ui/decisions")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.who button"))
    assert "You are signed out." in text_of(browser, "main")
    browser.get(server.url + "/ui/decisions")
    assert "Sign in with an auditor or admin key" in text_of(browser, "main")

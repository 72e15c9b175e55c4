"""backward_player's saved page in a real headless Chromium (Debian's chromium and chromium-driver, via selenium).

Outside CI these tests skip, with the reason, when the browser, its driver or
selenium is missing; under ``CI=true`` they fail instead (``.ci/setup``
installs them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograd_core import Value
from viz import backward_player

IN_CI = os.environ.get("CI", "").lower() == "true"

# What the browser is started with: headless, and nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
)


def _missing(what: str) -> None:
    message = f"{what}; install it (Debian: apt-get install chromium chromium-driver; pip install -e '.[dev]')"
    if IN_CI:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def _find(*names: str) -> str | None:
    for n in names:
        found = shutil.which(n)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    chromium = _find("chromium", "chromium-browser")
    driver_exe = _find("chromedriver")
    if chromium is None:
        _missing("Chromium is not installed")
    if driver_exe is None:
        _missing("chromedriver (Debian package chromium-driver) is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="player-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # An explicit driver path: selenium then never looks for (or downloads) a driver of its own.
    driver = webdriver.Chrome(service=Service(executable_path=driver_exe), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _neuron() -> Value:
    w0, x0, w1, x1, b = (Value(v, n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "b")))
    out = (w0 * x0 + w1 * x1 + b).sigmoid()
    out.label = "f"
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    player = backward_player(_neuron())
    return player, player.save(tmp_path_factory.mktemp("player") / "backward.html")


_STATE = """
const frame = document.querySelector('#frames .frame:not([hidden])');
const node = frame.querySelector('g.node.current > title');
return {
  step: document.body.dataset.step,
  visible: document.querySelectorAll('#frames .frame:not([hidden])').length,
  frameStep: frame.dataset.step,
  current: node ? node.textContent : null,
  flows: frame.querySelectorAll('g.edge.flow').length,
  explain: document.getElementById('explain').textContent,
  slider: document.getElementById('slider').value,
  hash: location.hash,
};
"""


def _state(driver: Any) -> dict[str, Any]:
    return driver.execute_script(_STATE)


def _check(driver: Any, player: Any, k: int) -> None:
    s = _state(driver)
    step = player.steps[k]
    assert s["step"] == str(k)
    assert s["visible"] == 1 and s["frameStep"] == str(k)
    assert s["current"] == f"v{step.topo_index}"
    # The op's input edges plus the op-to-node edge carry gradient; a leaf sends none.
    assert s["flows"] == (len(step.inputs) + 1 if step.inputs else 0)
    assert s["explain"] == player.texts()[k]
    assert s["slider"] == str(k)
    assert s["hash"] == f"#step={k}"


def test_player_page_opens_at_step_in_address(browser: Any, saved: tuple[Any, Path]) -> None:
    player, page = saved
    browser.get(page.as_uri() + "#step=3")
    _check(browser, player, 3)
    assert player.steps[3].name == "add6"
    assert "∂f/∂add6 = 0.196612, from add8" in _state(browser)["explain"]


def test_player_next_button_walks_every_step(browser: Any, saved: tuple[Any, Path]) -> None:
    from selenium.webdriver.common.by import By

    player, page = saved
    browser.get(page.as_uri())
    _check(browser, player, 0)
    for k in range(1, len(player)):
        browser.find_element(By.ID, "next").click()
        _check(browser, player, k)
    browser.find_element(By.ID, "next").click()  # past the end: stays on the last step
    _check(browser, player, len(player) - 1)


def test_player_buttons_keys_and_slider_move_the_step(browser: Any, saved: tuple[Any, Path]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    player, page = saved
    last = len(player) - 1
    browser.get(page.as_uri() + "#step=5")
    _check(browser, player, 5)
    browser.find_element(By.ID, "prev").click()
    _check(browser, player, 4)
    browser.find_element(By.ID, "last").click()
    _check(browser, player, last)
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    _check(browser, player, last - 1)
    ActionChains(browser).send_keys(Keys.HOME).perform()
    _check(browser, player, 0)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    _check(browser, player, 1)
    browser.find_element(By.ID, "first").click()
    _check(browser, player, 0)
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = '7'; s.dispatchEvent(new Event('input'));"
    )
    _check(browser, player, 7)
    browser.get(page.as_uri() + "#step=99")  # out of range: clamped to the last step
    _check(browser, player, last)


def test_player_play_runs_to_the_last_step(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    x = Value(3.0, "x")
    player = backward_player(x * x + x, interval_ms=50)
    page = player.save(tmp_path / "play.html")
    browser.get(page.as_uri())
    browser.find_element(By.ID, "play").click()
    last = str(len(player) - 1)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.step") == last)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "play").text == "play")
    _check(browser, player, len(player) - 1)


def test_player_page_makes_no_network_requests(browser: Any, saved: tuple[Any, Path]) -> None:
    _, page = saved
    browser.get(page.as_uri() + "#step=2")
    entries = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert entries == []
    csp = browser.execute_script(
        "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    )
    assert csp.startswith("default-src 'none'")


def test_player_screenshot_shows_the_step(browser: Any, saved: tuple[Any, Path], tmp_path: Path) -> None:
    _, page = saved
    browser.get(page.as_uri() + "#step=4")
    shot = tmp_path / "step4.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    # Keep a copy for a person to look at when asked to (PLAYER_SCREENSHOT=path).
    keep = os.environ.get("PLAYER_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_player_repr_html_plays_inside_a_notebook_like_page(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    x = Value(3.0, "x")
    player = backward_player(x * x + x)
    host = tmp_path / "notebook.html"
    # Two players in one page, as two notebook cells: each runs in its own iframe.
    host.write_text(
        f"<!DOCTYPE html><html><body>{player._repr_html_()}{player._repr_html_()}</body></html>", encoding="utf-8"
    )
    browser.get(host.as_uri())
    frames = browser.find_elements(By.TAG_NAME, "iframe")
    assert len(frames) == 2
    browser.switch_to.frame(frames[0])
    try:
        _check_inline(browser, player, 0)
        browser.find_element(By.ID, "next").click()
        _check_inline(browser, player, 1)
    finally:
        browser.switch_to.default_content()
    browser.switch_to.frame(frames[1])
    try:
        _check_inline(browser, player, 0)  # the other player did not move
    finally:
        browser.switch_to.default_content()


def _check_inline(driver: Any, player: Any, k: int) -> None:
    # Inside a srcdoc iframe the address has no #step (and cannot be changed): everything else holds.
    s = _state(driver)
    assert s["step"] == str(k) and s["current"] == f"v{player.steps[k].topo_index}"
    assert s["explain"] == player.texts()[k]

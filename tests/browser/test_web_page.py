"""The web page at ``/`` in a real headless Chromium against a real ``pixcut serve``.

A user's path through the page: choose the sample photo, change options, get the
result (its alpha must equal ``pixcut remove`` on the same file with the same options),
download it, switch to the mask, download everything as a zip; an unreadable file's
error is shown on the page; a server with credentials makes the page ask for them.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _browser_support import HAVE_CHROMIUM, chromium, downloaded, wait_for
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from server._serve_support import API_ID, API_SECRET, LiveServer

from pixcut.server.config import ServeConfig

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"),
]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "astronaut.jpg"
PIXCUT = Path(sys.executable).with_name("pixcut")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(ServeConfig()).start()
    yield live
    live.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[WebDriver, Path]]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with chromium(tmp_path / "profile", downloads) as driver:
        yield driver, downloads


def open_page(driver: WebDriver, server: LiveServer) -> None:
    driver.get(server.base + "/")
    wait_for(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 20, "the page")


def choose(driver: WebDriver, *paths: Path) -> None:
    driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in paths))


def result_items(driver: WebDriver) -> list:  # type: ignore[type-arg]
    return driver.find_elements(By.CSS_SELECTOR, "#results .result")


def finished_link(driver: WebDriver, index: int = 0, previous: str | None = None):  # type: ignore[no-untyped-def]
    """The item's download link once it shows a (new) result."""

    def ready():  # type: ignore[no-untyped-def]
        items = result_items(driver)
        if len(items) <= index or "busy" in (items[index].get_attribute("class") or ""):
            return None
        link = items[index].find_element(By.CSS_SELECTOR, "a.download")
        name = link.get_attribute("download")
        return link if link.is_displayed() and name and name != previous else None

    return wait_for(ready, 180, "a result")


def pixcut_remove(tmp_path: Path, *flags: str) -> Image.Image:
    out = tmp_path / f"cli-{len(list(tmp_path.iterdir()))}.png"
    command = [str(PIXCUT), "remove", str(SAMPLE), "-o", str(out), *flags]
    # The server and the CLI choose the runtime by the same rule, so "equal to pixcut remove" is to the bit.
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    image = Image.open(out)
    image.load()
    return image


def test_cutout_options_download_mask_and_zip(
    server: LiveServer, browser: tuple[WebDriver, Path], tmp_path: Path
) -> None:
    driver, downloads = browser
    open_page(driver, server)
    driver.find_element(By.ID, "crop").click()  # keyboard-reachable controls, changed like a user would
    driver.find_element(By.ID, "margin").send_keys("12px")
    choose(driver, SAMPLE)
    link = finished_link(driver)
    assert link.get_attribute("download") == "astronaut-cutout.png"
    assert "1 done, 0 failed" in driver.find_element(By.ID, "status").text
    link.click()
    with Image.open(downloaded(downloads, "astronaut-cutout.png")) as page_result:
        assert page_result.format == "PNG" and page_result.mode == "RGBA"
        page_alpha = np.asarray(page_result.getchannel("A"))
    expected = pixcut_remove(tmp_path, "--crop-to-foreground", "--margin", "12px")
    assert page_alpha.shape == (expected.height, expected.width)
    assert np.array_equal(page_alpha, np.asarray(expected.getchannel("A")))

    # The compare view lines the cropped result up with the original (the foreground headers' placement).
    stage, layer = driver.execute_script(
        "const r = (s) => document.querySelector(s).getBoundingClientRect();"
        "return [r('#results .stage'), r('#results .after-image')].map((b) => [b.left, b.top, b.width, b.height]);"
    )
    assert abs(layer[2] / stage[2] - expected.width / 512) < 0.01
    assert abs(layer[3] / stage[3] - expected.height / 512) < 0.01

    # The before/after slider moves the split (keyboard: the range input takes arrow keys).
    slider = driver.find_element(By.CSS_SELECTOR, "#results .slider")
    driver.execute_script("arguments[0].value = 20; arguments[0].dispatchEvent(new Event('input'))", slider)
    after = driver.find_element(By.CSS_SELECTOR, "#results .after")
    assert "20%" in (after.get_attribute("style") or "")

    # Mask, derived in the page from the same PNG cutout: equal to the CLI's --output-type mask.
    Select(driver.find_element(By.ID, "output")).select_by_value("mask")
    driver.find_element(By.ID, "apply").click()
    link = finished_link(driver, previous="astronaut-cutout.png")
    assert link.get_attribute("download") == "astronaut-mask.png"
    link.click()
    with Image.open(downloaded(downloads, "astronaut-mask.png")) as mask:
        grey = np.asarray(mask.convert("RGBA"))
    assert np.array_equal(grey[:, :, 0], page_alpha) and np.array_equal(grey[:, :, 2], page_alpha)
    assert (grey[:, :, 3] == 255).all()
    cli_mask = pixcut_remove(tmp_path, "--crop-to-foreground", "--margin", "12px", "--output-type", "mask")
    assert np.array_equal(np.asarray(cli_mask.convert("L")), page_alpha)

    driver.find_element(By.ID, "download-all").click()
    with zipfile.ZipFile(downloaded(downloads, "pixcut-results.zip")) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["astronaut-mask.png"]
        with Image.open(io.BytesIO(archive.read("astronaut-mask.png"))) as inside:
            assert np.array_equal(np.asarray(inside.convert("RGBA"))[:, :, 0], page_alpha)


def test_several_files_background_jpeg_and_an_unreadable_one(
    server: LiveServer, browser: tuple[WebDriver, Path], tmp_path: Path
) -> None:
    driver, downloads = browser
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a photo at all")
    open_page(driver, server)
    driver.find_element(By.ID, "use-background").click()
    Select(driver.find_element(By.ID, "format")).select_by_value("jpeg")
    choose(driver, SAMPLE, broken)
    link = finished_link(driver, 0)
    error = wait_for(
        lambda: (lambda e: e if e.is_displayed() and e.text else None)(
            result_items(driver)[1].find_element(By.CSS_SELECTOR, ".error")
        ),
        120,
        "the error of the unreadable file",
    )
    assert error.get_attribute("role") == "alert"
    assert "Could not remove the background: Failed to read the supplied image" in error.text
    assert "1 done, 1 failed" in driver.find_element(By.ID, "status").text
    link.click()
    with Image.open(downloaded(downloads, "astronaut-cutout.jpg")) as result:
        assert result.format == "JPEG" and result.size == (512, 512)
        corner = result.convert("RGB").getpixel((2, 2))
    assert isinstance(corner, tuple) and min(corner) >= 245  # the white background colour


def test_page_asks_for_credentials(browser: tuple[WebDriver, Path]) -> None:
    driver, _downloads = browser
    secured = LiveServer(ServeConfig(api_id=API_ID, api_secret=API_SECRET)).start()
    try:
        open_page(driver, secured)  # the page itself loads without credentials
        panel = driver.find_element(By.ID, "credentials")
        assert not panel.is_displayed()
        choose(driver, SAMPLE)
        wait_for(panel.is_displayed, 60, "the credentials form")
        assert driver.switch_to.active_element.get_attribute("id") == "api-id"  # focus moved to the form
        driver.find_element(By.ID, "api-id").send_keys(API_ID)
        driver.find_element(By.ID, "api-secret").send_keys(API_SECRET + "\n")  # Enter submits
        link = finished_link(driver)
        assert link.get_attribute("download") == "astronaut-cutout.png"
        assert not panel.is_displayed()
    finally:
        secured.stop()


def test_controls_are_labelled_and_keyboard_reachable(server: LiveServer, browser: tuple[WebDriver, Path]) -> None:
    driver, _downloads = browser
    open_page(driver, server)
    unlabelled = driver.execute_script(
        """
        return [...document.querySelectorAll('input, select, button')]
          .filter((el) => !el.closest('[hidden]'))
          .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.textContent || '').trim())
          .map((el) => el.id || el.outerHTML);
        """
    )
    assert unlabelled == []
    order = []
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    for _ in range(14):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        order.append(driver.switch_to.active_element.get_attribute("id"))
    expected = ["files", "output", "format", "use-background", "background", "crop", "margin"]
    expected += ["target-width", "target-height", "alignment", "apply"]
    assert [i for i in dict.fromkeys(order) if i in expected] == expected, order
    crop = driver.find_element(By.ID, "crop")
    crop.send_keys(Keys.SPACE)  # a focused checkbox toggles from the keyboard
    assert crop.is_selected()


def test_dropping_a_file_on_the_page(server: LiveServer, browser: tuple[WebDriver, Path]) -> None:
    """A real drop event with a DataTransfer holding a PNG made in the page (Selenium cannot drag from the OS)."""
    driver, _downloads = browser
    open_page(driver, server)
    driver.execute_script(
        """
        const canvas = document.createElement('canvas');
        canvas.width = 96; canvas.height = 64;
        const g = canvas.getContext('2d');
        g.fillStyle = '#9ab'; g.fillRect(0, 0, 96, 64);
        g.fillStyle = '#c22'; g.beginPath(); g.arc(48, 32, 20, 0, 7); g.fill();
        canvas.toBlob((blob) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
          const target = document.querySelector('#drop');
          target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
          target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }, 'image/png');
        """
    )
    link = finished_link(driver)
    assert link.get_attribute("download") == "dropped-cutout.png"
    assert "over" not in (driver.find_element(By.ID, "drop").get_attribute("class") or "")


def test_webp_made_in_the_page_keeps_the_alpha(
    server: LiveServer, browser: tuple[WebDriver, Path], tmp_path: Path
) -> None:
    driver, downloads = browser
    open_page(driver, server)
    Select(driver.find_element(By.ID, "format")).select_by_value("webp")
    driver.find_element(By.ID, "target-width").send_keys("300")
    driver.find_element(By.ID, "target-height").send_keys("200")
    Select(driver.find_element(By.ID, "alignment")).select_by_value("bottom")
    choose(driver, SAMPLE)
    finished_link(driver).click()
    with Image.open(downloaded(downloads, "astronaut-cutout.webp")) as webp:
        assert webp.format == "WEBP" and webp.mode == "RGBA" and webp.size == (300, 200)
        alpha = np.asarray(webp.getchannel("A"))
    expected = pixcut_remove(tmp_path, "--target-size", "300 200", "--vertical-alignment", "bottom")
    assert np.array_equal(alpha, np.asarray(expected.getchannel("A")))  # WebP's alpha plane is lossless

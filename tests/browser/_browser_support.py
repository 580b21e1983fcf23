"""A real headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

Selenium is pointed at ``/usr/bin/chromedriver`` and ``/usr/bin/chromium`` explicitly and
told it is offline, so Selenium Manager downloads nothing. Every browser gets a fresh
profile and a download folder of its own; background networking, updates, sync and QUIC
are off, so the only traffic is to the ``pixcut serve`` under test on 127.0.0.1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HAVE_CHROMIUM = CHROMIUM.is_file() and CHROMEDRIVER.is_file()
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
T = TypeVar("T")


@contextmanager
def chromium(profile: Path, downloads: Path) -> Iterator[WebDriver]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look anything up
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(what: Callable[[], T | None], timeout: float = 120.0, message: str = "condition") -> T:
    """Poll until ``what()`` is truthy (a page action finished); fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.1)


def downloaded(folder: Path, name: str, timeout: float = 60.0) -> Path:
    """The finished download ``name`` (Chromium writes ``.crdownload`` first, then renames)."""
    path = folder / name
    return wait_for(lambda: path if path.is_file() and path.stat().st_size > 0 else None, timeout, f"download {name}")

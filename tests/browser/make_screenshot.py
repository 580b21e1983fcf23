"""Capture ``docs/web-page.png``: the web page in the real headless Chromium, after a real removal.

Run from the repository: ``.venv/bin/python tests/browser/make_screenshot.py`` (needs Debian's
``chromium`` and ``chromium-driver``). It starts ``pixcut serve`` on a free loopback port, drops
the sample photo on the page with a background colour, waits for the result and saves the page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _browser_support import chromium, wait_for  # noqa: E402
from PIL import Image  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from server._serve_support import LiveServer  # noqa: E402

from pixcut.server.config import ServeConfig  # noqa: E402

ROOT = HERE.parents[1]
OUT = ROOT / "docs" / "web-page.png"


def main() -> None:
    server = LiveServer(ServeConfig()).start()
    try:
        with tempfile.TemporaryDirectory() as scratch, chromium(Path(scratch) / "p", Path(scratch)) as driver:
            driver.set_window_size(1100, 1780)
            driver.get(server.base + "/")
            wait_for(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
            driver.find_element(By.ID, "crop").click()
            driver.find_element(By.ID, "margin").send_keys("5%")
            driver.find_element(By.ID, "files").send_keys(str(ROOT / "docs" / "samples" / "astronaut.jpg"))
            wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#results a.download").is_displayed())
            driver.execute_script("document.activeElement.blur()")
            height = int(driver.execute_script("return document.querySelector('main').getBoundingClientRect().bottom"))
            driver.save_screenshot(str(OUT))
        with Image.open(OUT) as shot:  # drop the empty space below the page
            shot.crop((0, 0, shot.width, min(shot.height, height + 8))).save(OUT, optimize=True)
    finally:
        server.stop()
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

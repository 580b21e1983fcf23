"""``pixcut serve --open``: the real command opens the page with the user's browser once it listens.

``$BROWSER`` (honoured by Python's ``webbrowser``) points at a tiny script that records the
URL it was given, so the test sees exactly what a browser would be asked to open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pixcut.server.web import page_url

PIXCUT = Path(sys.executable).with_name("pixcut")


def test_open_flag_opens_the_page(tmp_path: Path) -> None:
    record = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{record}"\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}
    process = subprocess.Popen(
        [str(PIXCUT), "serve", "--port", "0", "--open", "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (record.is_file() and record.read_text()):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the page was never opened"
            time.sleep(0.1)
        url = record.read_text()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/") and not url.endswith(":0/")
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "<title>pixcut" in page.text
        script = httpx.get(url + "static/app.js", timeout=10)
        assert script.status_code == 200 and "/api/v2/remove-background" in script.text
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert f"opened {url}" in err


def test_page_url_for_wildcard_and_ipv6_hosts() -> None:
    assert page_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert page_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert page_url("::", 8765) == "http://[::1]:8765/"
    assert page_url("::1", 8765) == "http://[::1]:8765/"
    assert page_url("photos.local", 9000) == "http://photos.local:9000/"

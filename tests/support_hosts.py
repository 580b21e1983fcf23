"""A real ``pixcut serve`` without auth for the GIMP and Krita end-to-end tests (the README's default set-up).

Run as its own process through the CLI, exactly as a user starts it; the plug-ins reach it as a
custom endpoint with no credentials configured anywhere.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(pixcut: Path, log: Path, timeout: float = 120) -> Iterator[str]:
    """Start ``pixcut serve`` (no auth) on a free loopback port; yield its endpoint URL; stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXCUT_SERVE_", "PIXIAN_"))}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(pixcut), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pixcut serve did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/api/v2/remove-background"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def upgraded_package(folder: Path, version: str = "99.0.0") -> Path:
    """What ``pip install -U pixcut`` leaves: a copy of the pixcut package with another version and a
    changed host kit, in ``folder/site`` (put it on PYTHONPATH). Returns the site folder."""
    import pixcut

    site = folder / "site"
    shutil.copytree(
        Path(pixcut.__file__).parent, site / "pixcut", symlinks=False, ignore=shutil.ignore_patterns("__pycache__")
    )
    init = site / "pixcut" / "__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{pixcut.__version__}"', f'__version__ = "{version}"'))
    kit = site / "pixcut" / "hosts" / "hostkit.py"
    kit.write_text(kit.read_text() + "\n# a newer kit\n")
    return site


def upgraded_pixcut(folder: Path, python: Path, version: str = "99.0.0") -> Path:
    """An executable ``pixcut`` that runs the upgraded copy with ``python`` (for a plug-in's settings)."""
    site = upgraded_package(folder, version)
    script = folder / "pixcut-upgraded"
    script.write_text(
        f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(site))} exec {shlex.quote(str(python))} -m pixcut "$@"\n'
    )
    script.chmod(0o755)
    return script

"""The provider's documented call, ``curl -u id:secret -F image=@file -o out.png URL``, against the server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from _serve_support import API_ID, API_SECRET, LiveServer
from PIL import Image

CURL = shutil.which("curl") or ("/usr/bin/curl" if Path("/usr/bin/curl").exists() else None)


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_documented_curl_call(auth_server: LiveServer, photo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    command = [CURL, "-sS", "-f", "-u", f"{API_ID}:{API_SECRET}", "-F", f"image=@{photo_file}"]
    command += ["-o", str(out), auth_server.url]
    completed = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    with Image.open(out) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and image.size == (256, 256)
        alpha = np.asarray(image)[:, :, 3]
    assert alpha.min() == 0 and alpha.max() == 255  # transparent background, opaque subject

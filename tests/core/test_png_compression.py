"""``png_compression``: validated in options, honoured by the encoder, the CLI and the offline backend."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import SAMPLE

from pixcut import remove_background
from pixcut.encoding import encode
from pixcut.errors import OptionsError
from pixcut.options import DEFAULT_PNG_COMPRESSION, RemovalOptions


def _cutout() -> Image.Image:
    """A realistic cutout: the sample photo with an elliptic alpha (soft ramp, zero colour outside)."""
    rgb = Image.open(SAMPLE).convert("RGB")
    h, w = rgb.height, rgb.width
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((x - w / 2) / (w / 3), (y - h / 2) / (h / 2.5))
    alpha = np.clip((1.1 - r) * 5, 0, 1)
    rgba = np.dstack([np.asarray(rgb) * (alpha[..., None] > 0), alpha * 255]).astype(np.uint8)
    return Image.fromarray(rgba)


def test_default_and_bounds() -> None:
    assert RemovalOptions().png_compression == DEFAULT_PNG_COMPRESSION == 1
    assert RemovalOptions(png_compression="9").png_compression == 9
    for bad in (-1, 10, "fast", True):
        with pytest.raises(OptionsError, match="png_compression"):
            RemovalOptions(png_compression=bad)


def test_every_level_round_trips_exactly_and_higher_levels_are_not_larger() -> None:
    cutout = _cutout()
    sizes = {}
    for level in range(10):
        data = encode(cutout, "png", png_compression=level)
        with Image.open(io.BytesIO(data)) as back:
            assert back.format == "PNG" and back.mode == "RGBA"
            assert np.array_equal(np.asarray(back), np.asarray(cutout))
        sizes[level] = len(data)
    assert sizes[0] > 3 * sizes[1]  # 0 is stored, not compressed
    assert sizes[9] <= sizes[2]
    # The default (run-length) stays close to zlib's level 2 on this synthetic cutout (1.06x); on
    # the dev split's photo cutouts it is smaller than level 2.
    assert sizes[1] <= sizes[2] * 1.10


def test_png_compression_is_not_a_form_field() -> None:
    assert "png_compression" not in RemovalOptions(png_compression=9).to_form()


def test_offline_backend_and_cli_honour_the_level(tmp_path: Path) -> None:
    fast = remove_background(SAMPLE)
    small = remove_background(SAMPLE, png_compression=9)
    assert len(small.data) < len(fast.data)
    assert np.array_equal(np.asarray(fast.image), np.asarray(Image.open(io.BytesIO(small.data))))

    out = tmp_path / "cut.png"
    cmd = [sys.executable, "-m", "pixcut", "remove", str(SAMPLE), "-o", str(out), "-q", "--png-compression", "9"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    assert out.read_bytes() == small.data
    bad = subprocess.run([*cmd[:-1], "12"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "png_compression" in bad.stderr + bad.stdout

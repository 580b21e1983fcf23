"""parallel.py: strips on every core give exactly what one pass over the whole image gives."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from pixcut import parallel
from pixcut.finishing import make_cutout


def _photo(mode: str, size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 7.0) + np.cos(y / 11.0)) * 60 + 128
    noise = rng.normal(0, 25, (h, w, 3))
    rgb = np.clip(base[..., None] + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(rgb)
    return image if mode == "RGB" else image.convert(mode)


@pytest.mark.parametrize(
    ("mode", "source", "target", "resample", "gap"),
    [
        ("RGB", (1154, 865), (320, 320), Image.Resampling.LANCZOS, 3.0),  # the model input at 1 MP
        ("RGB", (4000, 3000), (320, 320), Image.Resampling.LANCZOS, 3.0),  # with a box reduction first
        ("L", (1154, 865), (512, 384), Image.Resampling.BILINEAR, 3.0),  # the guided filter's guide
        ("RGB", (301, 199), (77, 41), Image.Resampling.BICUBIC, None),
        ("L", (9, 7), (4, 3), Image.Resampling.LANCZOS, None),  # more bands than fit evenly
        ("RGB", (50, 40), (120, 90), Image.Resampling.LANCZOS, None),  # upscaling
        ("RGB", (4001, 2999), (320, 320), Image.Resampling.LANCZOS, 3.0),  # reduction with a remainder
    ],
)
def test_banded_resize_matches_one_resize_and_every_machine_gets_the_same(
    mode: str,
    source: tuple[int, int],
    target: tuple[int, int],
    resample: Image.Resampling,
    gap: float | None,
) -> None:
    image = _photo(mode, source)
    whole = np.asarray(image.resize(target, resample, reducing_gap=gap)).astype(int)
    banded = parallel.resize(image, target, resample, reducing_gap=gap)
    assert banded.mode == image.mode and banded.size == target
    diff = np.abs(np.asarray(banded).astype(int) - whole)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    # The bands are fixed: one core (no threads) gives the same bytes as several.
    assert parallel.resize(image, target, resample, reducing_gap=gap, workers=1).tobytes() == banded.tobytes()


def test_map_strips_keeps_order_uses_threads_and_raises() -> None:
    seen: set[int] = set()

    def job(i: int) -> int:
        seen.add(threading.get_ident())
        time.sleep(0.002)  # long enough that every thread gets strips
        return i * i

    assert parallel.map_strips(job, range(20), workers=4) == [i * i for i in range(20)]
    assert len(seen) > 1 and threading.get_ident() in seen  # the caller takes strips too
    seen.clear()
    assert parallel.map_strips(job, [3], workers=4) == [9]
    assert seen == {threading.get_ident()}  # one item: no pool

    def fails(i: int) -> int:
        if i == 5:
            raise ValueError("strip 5")
        return i

    with pytest.raises(ValueError, match="strip 5"):
        parallel.map_strips(fails, range(10), workers=2)


def test_a_failure_stops_the_other_threads_taking_strips() -> None:
    done: list[int] = []

    def job(i: int) -> int:
        if i == 2:
            raise KeyboardInterrupt  # what Ctrl-C raises; a BaseException, not an Exception
        time.sleep(0.01)
        done.append(i)
        return i

    with pytest.raises(KeyboardInterrupt):
        parallel.map_strips(job, range(60), workers=3)
    assert len(done) < 10  # the strips in hand finished, no new ones were taken


def test_cutout_in_strips_equals_the_rule_on_the_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour where alpha > 0, zero colour where it is 0, alpha as given; the input's info kept."""
    rgb = _photo("RGB", (333, 257))
    rgb.info["icc_profile"] = b"profile bytes"
    rng = np.random.default_rng(1)
    alpha_values = rng.integers(0, 256, (257, 333), dtype=np.uint8)
    alpha_values[rng.random((257, 333)) < 0.3] = 0
    alpha = Image.fromarray(alpha_values)
    monkeypatch.setattr(parallel, "STRIP_PIXELS", 333 * 10)  # 26 strips
    cutout = make_cutout(rgb, alpha)
    out = np.asarray(cutout)
    expected_rgb = np.where(alpha_values[..., None] > 0, np.asarray(rgb), 0)
    assert cutout.mode == "RGBA" and cutout.size == rgb.size
    assert np.array_equal(out[..., :3], expected_rgb)
    assert np.array_equal(out[..., 3], alpha_values)
    assert cutout.info["icc_profile"] == b"profile bytes"

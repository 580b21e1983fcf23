"""Refinement building blocks: box filter, guided filter, sharpening, decontamination, memory."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from pixcut.engine import EngineOptions, estimate_foreground
from pixcut.engine.refine import box_mean, guided_upsample, refine_alpha, sharpen


def _box_mean_reference(x: np.ndarray, r: int) -> np.ndarray:
    h, w = x.shape[:2]
    out = np.zeros(x.shape, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1].mean(axis=(0, 1))
    return out


@pytest.mark.parametrize(("shape", "r"), [((7, 9), 1), ((7, 9), 3), ((5, 4, 3), 2), ((3, 3), 5), ((20, 13), 4)])
def test_box_mean_matches_brute_force(shape: tuple[int, ...], r: int) -> None:
    x = np.random.default_rng(1).random(shape).astype(np.float32)
    assert np.allclose(box_mean(x, r), _box_mean_reference(x, r), atol=1e-6)


def test_sharpen_keeps_ends_and_center() -> None:
    a = np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype=np.float32)
    s = sharpen(a.copy(), 24.0)
    assert s[0] == pytest.approx(0.0, abs=1e-6) and s[-1] == pytest.approx(1.0, abs=1e-6)
    assert s[2] == pytest.approx(0.5, abs=1e-6)
    assert s[1] < 0.01 and s[3] > 0.99
    assert np.array_equal(sharpen(a.copy(), 0.0), a)


def _step_scene(size: tuple[int, int]) -> tuple[Image.Image, np.ndarray]:
    """A sharp-edged rectangle and a blurred low-resolution mask of it."""
    w, h = size
    img = Image.new("RGB", size, (30, 60, 200))
    ImageDraw.Draw(img).rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(250, 200, 40))
    truth = np.zeros((h, w), dtype=np.float32)
    truth[h // 4 : 3 * h // 4 + 1, w // 4 : 3 * w // 4 + 1] = 1.0
    small = Image.fromarray((truth * 255).astype(np.uint8)).resize((80, 80), Image.Resampling.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(2))
    return img, np.asarray(small, dtype=np.float32) / 255.0


@pytest.mark.parametrize("color", [True, False])
def test_guided_filter_snaps_sharpened_mask_to_image_edges(color: bool) -> None:
    img, pred = _step_scene((400, 300))
    h, w = 300, 400
    truth = np.zeros((h, w), dtype=np.float32)
    truth[h // 4 : 3 * h // 4 + 1, w // 4 : 3 * w // 4 + 1] = 1.0

    def err(opts: EngineOptions) -> float:
        return float(np.abs(refine_alpha(pred.copy(), img, opts) - truth).mean())

    full = err(EngineOptions(guided_color=color))
    assert full < 0.7 * err(EngineOptions(guided_radius=0))  # sharpening alone
    assert full < 0.2 * err(EngineOptions.stock())
    guided = guided_upsample(pred, img, 3, 1e-3, color=color)
    assert guided.shape == (h, w) and guided.dtype == np.float32


def test_large_input_uses_bounded_working_size_and_float32() -> None:
    img, pred = _step_scene((3000, 2000))
    alpha = refine_alpha(pred, img, EngineOptions())
    assert alpha.shape == (2000, 3000) and alpha.dtype == np.float32
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert alpha[1000, 1500] > 0.99 and alpha[50, 50] < 0.01


def test_stock_options_reproduce_lanczos_of_uint8() -> None:
    _, pred = _step_scene((200, 100))
    rgb = Image.new("RGB", (200, 100))
    alpha = refine_alpha(pred, rgb, EngineOptions.stock())
    small = Image.fromarray((pred * 255 + 0.5).astype(np.uint8))
    expected = small.resize((200, 100), Image.Resampling.LANCZOS)
    assert np.array_equal((alpha * 255 + 0.5).astype(np.uint8), np.asarray(expected))


def test_estimate_foreground_removes_background_bleed() -> None:
    w, h = 200, 160
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt((xx - 100) ** 2 + (yy - 80) ** 2)
    a = np.clip((50 - dist) / 6 + 0.5, 0, 1).astype(np.float32)  # soft-edged disc
    fg = np.array([220, 20, 30], dtype=np.float32)
    bg = np.array([20, 200, 40], dtype=np.float32)
    comp = a[..., None] * fg + (1 - a[..., None]) * bg
    rgb = Image.fromarray((comp + 0.5).astype(np.uint8))
    alpha = Image.fromarray((a * 255 + 0.5).astype(np.uint8))
    out = np.asarray(estimate_foreground(rgb, alpha), dtype=np.float32)
    edge = (a > 0.3) & (a < 0.9)
    before = np.abs(comp[edge] - fg).mean()
    after = np.abs(out[edge] - fg).mean()
    assert after < 0.25 * before
    opaque = a >= 254 / 255
    assert np.array_equal(out[opaque], np.asarray(rgb)[opaque])


def test_strips_join_seamlessly_and_uint8_matches_float(monkeypatch: pytest.MonkeyPatch) -> None:
    from pixcut import parallel
    from pixcut.engine import refine

    img, pred = _step_scene((1500, 1100))  # larger than GUIDED_FILTER_MAX_SIDE: coefficients are upsampled
    opts = EngineOptions()
    strips = refine_alpha(pred.copy(), img, opts)
    as_u8 = refine_alpha(pred.copy(), img, opts, dtype=np.uint8)
    monkeypatch.setattr(parallel, "STRIP_PIXELS", 10**9)
    whole = refine_alpha(pred.copy(), img, opts)
    assert np.abs(strips - whole).max() < 1e-5
    assert as_u8.dtype == np.uint8
    # Rounding (0.5 of a level) plus the 8-bit path's table step: half a step of the input times the
    # curve's steepest slope (gain / 4, rescaled), in output levels.
    lo, hi = 1 / (1 + np.exp(opts.sharpen * 0.5)), 1 / (1 + np.exp(-opts.sharpen * 0.5))
    table_error = 255 * (opts.sharpen / 4) / (hi - lo) / (2 * refine.LUT_STEPS)
    assert np.abs(as_u8.astype(np.float32) - strips * 255).max() <= 0.5 + table_error + 1e-3

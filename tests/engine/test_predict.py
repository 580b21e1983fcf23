"""Predictions of the real default model on a real photo and on generated images."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pixcut.engine import Engine, EngineOptions, get_engine

ASTRONAUT = Path(__file__).resolve().parents[2] / "docs" / "samples" / "astronaut.jpg"


def _bbox(alpha: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of alpha > 127, right/bottom exclusive."""
    a = np.asarray(alpha) > 127
    ys, xs = np.nonzero(a)
    assert xs.size, "no foreground at all"
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _disc_image(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """A saturated orange disc on a soft blue-grey vertical gradient."""
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top = np.array([196, 208, 222], dtype=np.float32)
    bottom = np.array([150, 165, 185], dtype=np.float32)
    bg = np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).astype(np.uint8)
    img = Image.fromarray(np.ascontiguousarray(bg))
    ImageDraw.Draw(img).ellipse(box, fill=(235, 90, 20))
    return img


def test_interface(engine: Engine) -> None:
    import onnxruntime

    # On a CPU the default model runs on ncnn; otherwise on the provider ONNX Runtime really ran.
    assert engine.session.runtime == "ncnn" or engine.provider in onnxruntime.get_available_providers()
    assert engine.model_name == "u2netp"
    img = Image.new("RGB", (37, 23), (10, 200, 30))
    alpha = engine.predict_alpha(img)
    assert alpha.mode == "L" and alpha.size == (37, 23)


def test_astronaut_foreground(engine: Engine) -> None:
    rgb = Image.open(ASTRONAUT).convert("RGB")
    assert rgb.size == (512, 512)
    alpha = engine.predict_alpha(rgb)
    assert alpha.mode == "L" and alpha.size == rgb.size
    a = np.asarray(alpha, dtype=np.float32) / 255.0
    # The astronaut fills most of the frame: head at the top centre, suit and helmet below.
    assert 0.3 < (a > 0.5).mean() < 0.9
    assert a[100:150, 190:260].mean() > 0.9  # face
    assert a[300:450, 100:280].mean() > 0.9  # suit
    # Background: top-left (flag and backdrop) and the top-right corner (backdrop, shuttle model).
    assert a[:64, :64].mean() < 0.1
    assert a[:48, 464:].mean() < 0.1
    _left, top, right, bottom = _bbox(alpha)
    assert 5 < top < 40 and bottom > 480 and right > 460


@pytest.mark.parametrize("size", [(400, 300), (1200, 900)])
def test_generated_disc_is_found(engine: Engine, size: tuple[int, int]) -> None:
    w, h = size
    box = (int(0.30 * w), int(0.25 * h), int(0.70 * w), int(0.80 * h))
    alpha = engine.predict_alpha(_disc_image(size, box))
    assert alpha.size == size
    got = _bbox(alpha)
    tol_x, tol_y = 0.05 * w, 0.05 * h
    for g, e, tol in zip(got, box, (tol_x, tol_y, tol_x, tol_y), strict=True):
        assert abs(g - e) <= tol, (got, box)
    a = np.asarray(alpha, dtype=np.float32) / 255.0
    c = max(4, w // 20)
    for corner in (a[:c, :c], a[:c, -c:], a[-c:, :c], a[-c:, -c:]):
        assert corner.mean() < 0.05
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    assert a[cy - 10 : cy + 10, cx - 10 : cx + 10].mean() > 0.95


def test_stock_options_match_default_shape_and_differ_little(engine: Engine) -> None:
    rgb = Image.open(ASTRONAUT).convert("RGB")
    ours = np.asarray(engine.predict_alpha(rgb), dtype=np.float32)
    stock = np.asarray(engine.predict_alpha(rgb, options=EngineOptions.stock()), dtype=np.float32)
    assert ours.shape == stock.shape
    assert np.abs(ours - stock).mean() / 255.0 < 0.05


def test_non_rgb_inputs_are_accepted(engine: Engine) -> None:
    rgba = Image.new("RGBA", (64, 48), (255, 0, 0, 128))
    gray = Image.new("L", (64, 48), 128)
    assert engine.predict_alpha(rgba).size == (64, 48)
    assert engine.predict_alpha(gray).size == (64, 48)


def test_thread_safety_smoke() -> None:
    eng = get_engine()
    rgb = Image.open(ASTRONAUT).convert("RGB")
    expected = np.asarray(eng.predict_alpha(rgb))
    results: list[np.ndarray] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            same = get_engine()
            out = np.asarray(same.predict_alpha(rgb))
            with lock:
                results.append(out)
                assert same is eng
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 4
    for out in results:
        assert np.abs(out.astype(np.int16) - expected.astype(np.int16)).max() <= 1

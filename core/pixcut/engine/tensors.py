"""Image <-> tensor conversion at the model's resolution.

Kept separate from refinement so the exact training-time preprocessing (rembg's, which the
published ONNX files expect) is in one small place that tests and the benchmark's peer can
compare against.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixcut import parallel
from pixcut.engine.models import ModelSpec


def to_tensor(rgb: Image.Image, spec: ModelSpec, *, flip: bool = False) -> np.ndarray:
    """RGB image -> (1, 3, H, W) float32, rembg-style.

    Resize to the model size with LANCZOS, divide by the image's maximum value (not by 255: that is
    what the released weights were exported with), then per-channel (x - mean) / std. Everything
    happens in float32 at model size, so the cost does not depend on the input's resolution
    beyond the one resize. That resize uses ``reducing_gap`` (an integer box reduction down to
    3x the model size first): 3x faster on a 12 MP photo, within 2 levels of the full LANCZOS,
    and identical for inputs under 3x the model size. Its rows are split over the cores.
    """
    rgb = rgb if rgb.mode == "RGB" else rgb.convert("RGB")  # convert() would copy an RGB input
    small = parallel.resize(rgb, spec.input_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if flip:
        small = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    arr = np.array(small, dtype=np.float32)  # H, W, 3, a fresh writable array
    arr /= max(float(arr.max()), 1e-6)
    arr -= np.asarray(spec.mean, dtype=np.float32)
    arr /= np.asarray(spec.std, dtype=np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1)[None])


def raw_prediction(output: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """First output map (H, W) as float32, through a sigmoid when the model emits logits."""
    pred: np.ndarray = np.asarray(output, dtype=np.float32)[0, 0]
    if spec.sigmoid:
        pred = 1.0 / (1.0 + np.exp(-pred))
    return pred


def minmax(pred: np.ndarray) -> np.ndarray:
    """rembg's min-max normalisation to [0, 1] (a flat map becomes all zeros, not NaN)."""
    lo = float(pred.min())
    hi = float(pred.max())
    if hi - lo < 1e-12:
        return np.zeros_like(pred, dtype=np.float32)
    return ((pred - lo) / (hi - lo)).astype(np.float32, copy=False)


def to_mask_image(alpha: np.ndarray) -> Image.Image:
    """[0, 1] float map -> mode "L" image, rounding (not truncating) to the nearest level."""
    a = np.clip(alpha, 0.0, 1.0)
    a = a * 255.0
    a += 0.5
    return Image.fromarray(a.astype(np.uint8))  # 2-D uint8 -> mode "L"


def resize_float(
    alpha: np.ndarray, size: tuple[int, int], resample: Image.Resampling = Image.Resampling.BILINEAR
) -> np.ndarray:
    """Resize a float32 map with PIL's mode "F" (no uint8 quantisation before upsampling)."""
    if (alpha.shape[1], alpha.shape[0]) == tuple(size):
        return alpha.astype(np.float32, copy=False)
    img = Image.fromarray(np.ascontiguousarray(alpha, dtype=np.float32))  # -> mode "F"
    return np.array(img.resize(size, resample), dtype=np.float32)  # writable: refined in place

"""Mask refinement: model-size prediction -> alpha at the input's full size.

The network sees a 320x320 (or 1024x1024) copy of the image, so its mask is blurry once scaled
back up, and U^2-Net's min-max output is soft wherever it is unsure. Two cheap, numpy-only
steps fix most of that (each measured on the eval split, see ``benchmarks/quality.py``):

- a guided filter (He et al., 2010) guided by the full-resolution image, which moves the
  upsampled mask's edges onto the image's real edges;
- a logistic contrast curve that pushes unsure mid-tones towards 0 or 1.

Memory: the statistics of the guided filter are computed on an image of at most
``GUIDE_MAX_SIDE`` pixels on its long side and only the linear coefficients are upsampled
(the "fast guided filter", He & Sun 2015), so a 32 MP input costs a few float32 full-size
planes, never float64 ones.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixcut.engine.options import EngineOptions
from pixcut.engine.tensors import resize_float, to_mask_image

#: Long side of the working resolution for the guided filter's statistics.
GUIDE_MAX_SIDE = 1024


def refine_alpha(pred: np.ndarray, rgb: Image.Image, opts: EngineOptions) -> np.ndarray:
    """Upsample (and refine) a [0, 1] model-size prediction to ``rgb``'s size; float32 (H, W)."""
    size = rgb.size
    if opts.guided_radius <= 0 and opts.sharpen <= 0:
        # rembg's path exactly: quantise at model size, LANCZOS-resize the 8-bit mask.
        big = to_mask_image(pred).resize(size, Image.Resampling.LANCZOS)
        out = np.asarray(big, dtype=np.float32)
        return out * np.float32(1.0 / 255.0)

    if opts.guided_radius > 0:
        alpha = guided_upsample(pred, rgb, opts.guided_radius, opts.guided_eps, color=opts.guided_color)
    else:
        alpha = resize_float(pred, size, Image.Resampling.BILINEAR)
    if opts.sharpen > 0:
        alpha = sharpen(alpha, opts.sharpen, opts.sharpen_center)
    np.clip(alpha, 0.0, 1.0, out=alpha)
    return alpha


def sharpen(alpha: np.ndarray, gain: float, center: float = 0.5) -> np.ndarray:
    """Logistic contrast curve, rescaled so 0 stays 0 and 1 stays 1 (in place on float32)."""
    g = np.float32(gain)
    lo = 1.0 / (1.0 + np.exp(gain * center))
    hi = 1.0 / (1.0 + np.exp(-gain * (1.0 - center)))
    a = np.asarray(alpha, dtype=np.float32)
    a -= np.float32(center)
    a *= -g
    np.exp(a, out=a)
    a += np.float32(1.0)
    np.reciprocal(a, out=a)
    a -= np.float32(lo)
    a *= np.float32(1.0 / (hi - lo))
    return a


def box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window clipped at the borders (cumulative sums, O(1) per pixel).

    Sums run in float64 because float32 prefix sums over a 1000-pixel row lose the small
    differences the filter depends on; callers keep the inputs small (see GUIDE_MAX_SIDE).
    """
    h, w = x.shape[:2]
    out = _box_sum_axis(_box_sum_axis(x.astype(np.float64), r, 0), r, 1)
    ones = np.ones((h, w), dtype=np.float64)
    count = _box_sum_axis(_box_sum_axis(ones, r, 0), r, 1)
    if out.ndim == 3:
        count = count[..., None]
    out /= count
    return out.astype(np.float32)


def _box_sum_axis(x: np.ndarray, r: int, axis: int) -> np.ndarray:
    n = x.shape[axis]
    c = np.cumsum(x, axis=axis)
    pad_shape = list(x.shape)
    pad_shape[axis] = 1
    c = np.concatenate([np.zeros(pad_shape, dtype=c.dtype), c], axis=axis)
    idx = np.arange(n)
    hi = np.minimum(idx + r + 1, n)
    lo = np.maximum(idx - r, 0)
    return np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)


def guided_filter_gray(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (a, b) of the grey-guide guided filter: output = a * guide + b."""
    mean_i = box_mean(guide, r)
    mean_p = box_mean(src, r)
    corr_ip = box_mean(guide * src, r)
    corr_ii = box_mean(guide * guide, r)
    var_i = corr_ii - mean_i * mean_i
    cov_ip = corr_ip - mean_i * mean_p
    a = cov_ip / (var_i + np.float32(eps))
    b = mean_p - a * mean_i
    return box_mean(a, r), box_mean(b, r)


def guided_filter_color(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of the colour-guide guided filter: output = sum_c a[..., c] * guide[..., c] + b.

    A colour guide separates foreground and background that have the same brightness but
    different hue, which the grey version cannot.
    """
    mean_i = box_mean(guide, r)  # H, W, 3
    mean_p = box_mean(src, r)
    cov_ip = box_mean(guide * src[..., None], r) - mean_i * mean_p[..., None]
    # Covariance matrix of the guide per pixel (symmetric 3x3) + eps * I.
    sigma = np.empty(guide.shape[:2] + (3, 3), dtype=np.float32)
    for i in range(3):
        for j in range(i, 3):
            v = box_mean(guide[..., i] * guide[..., j], r) - mean_i[..., i] * mean_i[..., j]
            sigma[..., i, j] = v
            sigma[..., j, i] = v
    sigma[..., 0, 0] += eps
    sigma[..., 1, 1] += eps
    sigma[..., 2, 2] += eps
    a = np.linalg.solve(sigma, cov_ip[..., None])[..., 0]
    b = mean_p - np.einsum("hwc,hwc->hw", a, mean_i)
    return box_mean(a, r), box_mean(b, r)


def guided_upsample(pred: np.ndarray, rgb: Image.Image, radius: int, eps: float, *,
                    color: bool = True) -> np.ndarray:
    """Upsample ``pred`` to ``rgb``'s size with a guided filter guided by ``rgb``.

    ``radius`` is in full-resolution pixels. When the image is larger than GUIDE_MAX_SIDE the
    filter runs at a reduced size (radius scaled with it) and the coefficients a, b are
    upsampled bilinearly -- they are smooth by construction, so little is lost.
    """
    w, h = rgb.size
    scale = min(1.0, GUIDE_MAX_SIDE / max(w, h))
    ws, hs = max(1, round(w * scale)), max(1, round(h * scale))
    r = max(1, round(radius * scale))
    small_rgb = rgb if (ws, hs) == (w, h) else rgb.resize((ws, hs), Image.Resampling.BILINEAR)
    p = resize_float(pred, (ws, hs), Image.Resampling.BILINEAR)
    if color:
        guide = np.asarray(small_rgb, dtype=np.float32) * np.float32(1.0 / 255.0)
        a, b = guided_filter_color(guide, p, r, eps)
    else:
        guide = np.asarray(small_rgb.convert("L"), dtype=np.float32) * np.float32(1.0 / 255.0)
        a, b = guided_filter_gray(guide, p, r, eps)
    if (ws, hs) == (w, h):
        if color:
            out = np.einsum("hwc,hwc->hw", a, guide)
            out += b
            return out
        return a * guide + b
    # Full size: accumulate channel by channel so only a few float32 planes exist at once.
    out = resize_float(b, (w, h), Image.Resampling.BILINEAR).copy()
    if color:
        for c in range(3):
            chan = np.asarray(rgb.getchannel(c), dtype=np.float32)
            chan *= np.float32(1.0 / 255.0)
            chan *= resize_float(np.ascontiguousarray(a[..., c]), (w, h), Image.Resampling.BILINEAR)
            out += chan
            del chan
    else:
        gray = np.asarray(rgb.convert("L"), dtype=np.float32)
        gray *= np.float32(1.0 / 255.0)
        gray *= resize_float(a, (w, h), Image.Resampling.BILINEAR)
        out += gray
    return out

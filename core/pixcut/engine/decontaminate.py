"""Colour decontamination of edge pixels: remove the background colour bleeding into the cutout.

A pixel on a soft edge is a mix ``I = alpha * F + (1 - alpha) * B``. Keeping ``I`` as the
cutout's colour leaves a halo of the old background (green fringe after a green screen, dark
rim after a dark backdrop) once the cutout is placed on something else. We estimate ``B`` as
the alpha-weighted local mean of the background around the pixel and solve for ``F``.

This changes colours, not alpha, so the mask metrics cannot measure it; it is a finishing step
for callers that composite (the local backend). Memory: the background estimate is computed at
no more than ``refine.GUIDE_MAX_SIDE`` on the long side (it is smooth) and only upsampled, so the
full-size work is a few float32 planes, one channel at a time.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixcut.engine.refine import GUIDE_MAX_SIDE, box_mean
from pixcut.engine.tensors import resize_float

#: Pixels with alpha at or below this use the local foreground mean instead of the unmixing
#: formula, which divides by alpha and would amplify noise.
MIN_ALPHA = 0.15


def estimate_foreground(rgb: Image.Image, alpha: Image.Image, radius: int = 8) -> Image.Image:
    """Return an RGB image whose semi-transparent pixels have the background colour removed.

    Fully opaque and fully transparent pixels are returned unchanged. ``radius`` (pixels at the
    working resolution) is how far to look for the background and foreground colours.
    """
    rgb = rgb if rgb.mode == "RGB" else rgb.convert("RGB")
    if alpha.size != rgb.size:
        raise ValueError(f"alpha {alpha.size} and image {rgb.size} differ in size")
    w, h = rgb.size
    a_full = np.asarray(alpha.convert("L"), dtype=np.float32) * np.float32(1.0 / 255.0)
    edge = (a_full > 1.0 / 255.0) & (a_full < 254.0 / 255.0)
    if not edge.any():
        return rgb.copy()

    scale = min(1.0, GUIDE_MAX_SIDE / max(w, h))
    ws, hs = max(1, round(w * scale)), max(1, round(h * scale))
    small = rgb if (ws, hs) == (w, h) else rgb.resize((ws, hs), Image.Resampling.BOX)
    i_s = np.asarray(small, dtype=np.float32)
    a_s = resize_float(a_full, (ws, hs), Image.Resampling.BOX)
    # Background: mean colour weighted by (1 - alpha)^2, so clearly-background pixels dominate.
    wb = (1.0 - a_s) ** 2
    wf = a_s**2
    den_b = box_mean(wb, radius) + np.float32(1e-6)
    den_f = box_mean(wf, radius) + np.float32(1e-6)
    bg = box_mean(i_s * wb[..., None], radius) / den_b[..., None]
    fg = box_mean(i_s * wf[..., None], radius) / den_f[..., None]

    out = np.array(rgb, dtype=np.uint8)  # writable copy
    a_edge = a_full[edge]
    safe = np.maximum(a_edge, np.float32(MIN_ALPHA))
    for c in range(3):
        b_c = resize_float(np.ascontiguousarray(bg[..., c]), (w, h))[edge]
        f_c = resize_float(np.ascontiguousarray(fg[..., c]), (w, h))[edge]
        i_c = out[..., c][edge].astype(np.float32)
        unmixed = (i_c - (1.0 - a_edge) * b_c) / safe
        f = np.where(a_edge > MIN_ALPHA, unmixed, f_c)
        out[..., c][edge] = np.clip(f + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(out)

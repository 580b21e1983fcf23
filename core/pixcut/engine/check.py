"""``pixcut models check``: which preprocessing family makes a user's ``.onnx`` file behave.

A model fed the wrong preprocessing does not fail: it returns a plausible-looking but poor mask
(an ISNet under ImageNet mean/std fell from IoU 0.885 to 0.264 on dev images). So the check runs
the file on a known photo under every family, without refinement (the model's own output), and
compares each mask with the pinned default model's mask of the same photo:

- the foreground box (alpha >= 0.5) must exist and cover between 1 % and 99 % of the photo;
- the mean alpha must lie between 0.02 and 0.98 (not all background, not all foreground);
- the agreement (IoU at 0.5) with the default model's mask must be at least 0.6.

The photo is the bundled public-domain sample ``docs/samples/astronaut.jpg`` (one clear subject,
which every general-purpose model finds), or any photo the user gives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pixcut.engine.engine import Engine
from pixcut.engine.models import FAMILIES, resolve_model
from pixcut.engine.options import EngineOptions
from pixcut.errors import ModelError, PixcutError
from pixcut.geometry import Box
from pixcut.imageio import load_input

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "samples" / "astronaut.jpg"

MIN_AGREEMENT = 0.6
MEAN_ALPHA_RANGE = (0.02, 0.98)
BOX_AREA_RANGE = (0.01, 0.99)


@dataclass(frozen=True)
class FamilyResult:
    """How the file behaved under one family's preprocessing."""

    family: str
    box: Box | None  # foreground (alpha >= 0.5) bounding box in the photo's pixels
    box_area: float  # fraction of the photo the box covers
    mean_alpha: float
    agreement: float | None  # IoU@0.5 with the default model's mask (None: no reference)
    sane: bool
    problem: str  # why it is not sane ("" when sane)
    error: str = ""  # the model could not run at all under this family


def sample_image(path: str | os.PathLike[str] | None = None) -> Path:
    """The photo to check with: ``path``, else the bundled sample (a checkout's docs/samples)."""
    chosen = Path(path) if path is not None else SAMPLE
    if not chosen.is_file():
        raise ModelError(f"the check photo {chosen} is missing; give one with --image PHOTO")
    return chosen


def _binary(alpha: np.ndarray) -> np.ndarray:
    return np.asarray(alpha >= 0.5)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.logical_or(a, b).sum())
    return float(np.logical_and(a, b).sum()) / union if union else 1.0


def judge(family: str, alpha: np.ndarray, reference: np.ndarray | None) -> FamilyResult:
    """Apply the sanity rules (module docstring) to one float mask in [0, 1]."""
    fg = _binary(alpha)
    mean_alpha = float(alpha.mean())
    bbox = Image.fromarray(fg.astype(np.uint8) * 255).getbbox()
    box = Box.from_pil(bbox) if bbox else None
    area = (box.width * box.height) / float(alpha.size) if box else 0.0
    agreement = _iou(fg, _binary(reference)) if reference is not None else None
    problems = []
    if box is None:
        problems.append("no foreground at all")
    elif not BOX_AREA_RANGE[0] <= area <= BOX_AREA_RANGE[1]:
        problems.append(f"foreground box covers {area:.0%} of the photo")
    if not MEAN_ALPHA_RANGE[0] <= mean_alpha <= MEAN_ALPHA_RANGE[1]:
        problems.append(f"mean alpha {mean_alpha:.2f}")
    if agreement is not None and agreement < MIN_AGREEMENT:
        problems.append(f"agrees with the default model on only {agreement:.0%} (IoU)")
    return FamilyResult(family, box, area, mean_alpha, agreement, not problems, "; ".join(problems))


def check_model(
    path: str | os.PathLike[str], image: str | os.PathLike[str] | None = None, *, threads: int | None = None
) -> list[FamilyResult]:
    """Run ``path`` on the check photo under every family; one :class:`FamilyResult` each."""
    model_path = Path(path)
    if not model_path.is_file():
        raise ModelError(f"model file {model_path} does not exist")
    rgb = load_input(str(sample_image(image))).image.convert("RGB")
    stock = EngineOptions.stock()
    try:
        reference: np.ndarray | None = Engine(None, threads, stock).predict_alpha_array(rgb)
    except ModelError:
        reference = None  # no default model here: judge on box and mean alpha only
    results = []
    for family in FAMILIES:
        try:
            engine = Engine(threads=threads, options=stock, resolved=resolve_model(model_path, family=family))
            alpha = engine.predict_alpha_array(rgb)
        except PixcutError as exc:
            results.append(FamilyResult(family, None, 0.0, 0.0, None, False, "did not run", error=exc.message))
            continue
        results.append(judge(family, alpha, reference))
    return results


AMBIGUITY = 0.02


def best_families(results: list[FamilyResult]) -> list[str]:
    """The sane families, best first, that the check cannot tell apart (agreement within 0.02).

    Empty when no family looks sane. More than one means the photo does not separate them (a
    U^2-Net under BiRefNet's sigmoid is nearly the same mask): declare what the publisher says.
    """
    sane = sorted(
        (r for r in results if r.sane),
        key=lambda r: r.agreement if r.agreement is not None else 0.0,
        reverse=True,
    )
    if not sane:
        return []
    top = sane[0].agreement if sane[0].agreement is not None else 0.0
    return [r.family for r in sane if top - (r.agreement if r.agreement is not None else 0.0) <= AMBIGUITY]

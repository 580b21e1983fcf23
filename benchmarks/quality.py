"""Mask quality of pixcut's offline engine against the stock rembg u2netp pipeline.

Usage::

    .venv/bin/python benchmarks/quality.py [EVAL_DIR] [--model NAME|FILE.onnx] [--model-family F]
        [--no-peer] [--gate-iou X] [--gate-mae Y] [--split all|even|odd] [--limit N]
        [--flip/--no-flip] [--guided-radius R] [--guided-eps E] [--gray-guide]
        [--sharpen G] [--sharpen-center C] [--threads T]

EVAL_DIR (or env ``PIXCUT_EVAL_DIR``; default ``../shared/eval/ecssd-dev`` relative to the repo)
holds ``images/*.jpg`` and ``gt/*.png`` with the same stems. The eval data is research-only and
is read in place, never copied.

``--model`` picks any installed catalogue model (``pixcut models pull NAME``; the model folder is
``PIXCUT_MODEL_DIR`` or the user's) or an ``.onnx`` file with its ``--model-family``; default: the
configured default, else u2netp.

Both pipelines run in the same process, image by image (peer, then ours), on the same model
file, so the timing comparison sees the same machine state. The peer is rembg's stock pipeline,
which for the U^2-Net family (u2netp, u2net, u2net_human_seg, silueta) is the same code for every
model; other families run without a peer (``--no-peer`` skips it anyway). Printed per pipeline:
MAE, IoU@0.5, edge-band MAE (pixels within 15 px of the ground-truth contour), seconds per
image (prediction only: from a decoded RGB image to the mask) and seconds per 1-megapixel photo
(the bundled sample scaled to 1000x1000, median of 5). Metric definitions follow the eval
folder's ``README.md``. Engine options default to the engine's defaults; the flags override
them, which is how the defaults were chosen (tune on ``--split even``, check on ``--split odd``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peer import StockU2netp  # noqa: E402

from pixcut.config import model_choice  # noqa: E402
from pixcut.engine import EngineOptions, get_engine  # noqa: E402

EDGE_BAND_PX = 15


# -- metrics --------------------------------------------------------------------------------


def _hdilate(mask: np.ndarray, half: int) -> np.ndarray:
    """Horizontal dilation by ``half`` pixels each side (row-wise running counts)."""
    if half == 0:
        return mask.copy()
    h, w = mask.shape
    c = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=c[:, 1:])
    idx = np.arange(w)
    hi = np.minimum(idx + half + 1, w)
    lo = np.maximum(idx - half, 0)
    return (c[:, hi] - c[:, lo]) > 0


def edge_band(gt: np.ndarray, radius: int = EDGE_BAND_PX) -> np.ndarray:
    """Pixels within ``radius`` px (Euclidean) of the ground truth's contour.

    The contour is every pixel with a 4-neighbour on the other side of the 0.5 threshold (both
    sides of the boundary); the band is its dilation by a disk of the given radius.
    """
    b = gt > 0.5
    contour = np.zeros_like(b)
    dv = b[1:, :] != b[:-1, :]
    dh = b[:, 1:] != b[:, :-1]
    contour[1:, :] |= dv
    contour[:-1, :] |= dv
    contour[:, 1:] |= dh
    contour[:, :-1] |= dh
    band = np.zeros_like(b)
    h = b.shape[0]
    cache: dict[int, np.ndarray] = {}
    for dy in range(-radius, radius + 1):
        half = int(np.floor(np.sqrt(radius * radius - dy * dy)))
        if half not in cache:
            cache[half] = _hdilate(contour, half)
        d = cache[half]
        if dy >= 0:
            band[dy:, :] |= d[: h - dy, :]
        else:
            band[: h + dy, :] |= d[-dy:, :]
    return band


@dataclass
class Scores:
    """Per-image metric lists and timings for one pipeline."""

    mae: list[float] = field(default_factory=list)
    iou: list[float] = field(default_factory=list)
    edge: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, alpha: np.ndarray, gt: np.ndarray, band: np.ndarray, seconds: float) -> None:
        err = np.abs(alpha - gt)
        self.mae.append(float(err.mean()))
        pa, pg = alpha > 0.5, gt > 0.5
        union = np.logical_or(pa, pg).sum()
        self.iou.append(float(np.logical_and(pa, pg).sum() / union) if union else 1.0)
        if band.any():
            self.edge.append(float(err[band].mean()))
        self.seconds.append(seconds)

    def summary(self) -> dict[str, float]:
        return {
            "mae": float(np.mean(self.mae)),
            "iou": float(np.mean(self.iou)),
            "edge_mae": float(np.mean(self.edge)) if self.edge else float("nan"),
            "s_per_image": float(np.mean(self.seconds)),
        }


# -- data -----------------------------------------------------------------------------------


def eval_dir_from(arg: str | None) -> Path:
    """The eval folder: argument, then ``PIXCUT_EVAL_DIR``, then ``../shared/eval/ecssd-dev``."""
    raw = arg or os.environ.get("PIXCUT_EVAL_DIR") or str(REPO.parent / "shared" / "eval" / "ecssd-dev")
    return Path(raw).expanduser()


def load_pairs(root: Path, split: str = "all", limit: int | None = None) -> list[tuple[Path, Path]]:
    """(image, gt) path pairs sorted by name; ``even``/``odd`` pick alternating halves."""
    pairs = []
    for img in sorted((root / "images").glob("*.jpg")):
        gt = root / "gt" / (img.stem + ".png")
        if gt.is_file():
            pairs.append((img, gt))
    if not pairs:
        raise SystemExit(f"no images/*.jpg with gt/*.png pairs under {root}")
    if split == "even":
        pairs = pairs[0::2]
    elif split == "odd":
        pairs = pairs[1::2]
    return pairs[:limit] if limit else pairs


def load_gt(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0


# -- main -----------------------------------------------------------------------------------


def options_from_args(args: argparse.Namespace) -> EngineOptions:
    opts = EngineOptions()
    changes = {}
    for f in fields(EngineOptions):
        value = getattr(args, f.name, None)
        if value is not None:
            changes[f.name] = value
    return replace(opts, **changes)


def run(
    pairs: list[tuple[Path, Path]], pipelines: dict[str, Callable[[Image.Image], Image.Image]]
) -> dict[str, Scores]:
    """Evaluate each pipeline on each image, interleaved so timings share machine state."""
    scores = {name: Scores() for name in pipelines}
    warm = Image.open(pairs[0][0]).convert("RGB")
    for fn in pipelines.values():
        fn(warm)
    for img_path, gt_path in pairs:
        rgb = Image.open(img_path).convert("RGB")
        gt = load_gt(gt_path)
        band = edge_band(gt)
        for name, fn in pipelines.items():
            t0 = time.perf_counter()
            mask = fn(rgb)
            dt = time.perf_counter() - t0
            alpha = np.asarray(mask, dtype=np.float32) / 255.0
            if alpha.shape != gt.shape:
                raise SystemExit(f"{name}: mask {alpha.shape} vs gt {gt.shape} for {img_path.name}")
            scores[name].add(alpha, gt, band, dt)
    return scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("eval_dir", nargs="?", help="folder with images/ and gt/ (default: env PIXCUT_EVAL_DIR)")
    ap.add_argument("--split", choices=("all", "even", "odd"), default="all")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--model", default=None, help="catalogue name or .onnx file (default: configured, else u2netp)")
    ap.add_argument("--model-family", default=None, help="an .onnx file's family: u2net, isnet or birefnet")
    ap.add_argument("--no-peer", action="store_true", help="measure pixcut only (half the time)")
    ap.add_argument("--gate-iou", type=float, default=None, help="print whether pixcut's IoU reaches this")
    ap.add_argument("--gate-mae", type=float, default=None, help="print whether pixcut's MAE stays at or below this")
    ap.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--guided-radius", dest="guided_radius", type=int, default=None)
    ap.add_argument("--guided-eps", dest="guided_eps", type=float, default=None)
    ap.add_argument("--gray-guide", dest="guided_color", action="store_false", default=None)
    ap.add_argument("--sharpen", type=float, default=None)
    ap.add_argument("--sharpen-center", dest="sharpen_center", type=float, default=None)
    args = ap.parse_args(argv)

    root = eval_dir_from(args.eval_dir)
    pairs = load_pairs(root, args.split, args.limit)
    opts = options_from_args(args)
    model, family = model_choice(args.model, args.model_family)
    eng = get_engine(model, threads=args.threads, options=opts, family=family)
    pipelines: dict[str, Callable[[Image.Image], Image.Image]] = {}
    peer_name = f"stock-rembg-{eng.model_name}"
    if not args.no_peer and eng.spec.family == "u2net":
        pipelines[peer_name] = StockU2netp(str(eng.path), threads=args.threads).predict_alpha
    pipelines["pixcut"] = eng.predict_alpha

    print(f"eval: {root} split={args.split} images={len(pairs)}")
    threads = args.threads or "default"
    print(f"model: {eng.model_name} [{eng.spec.family}] ({eng.path}) provider={eng.provider} threads={threads}")
    print(f"ours: {opts}")
    scores = run(pairs, pipelines)
    per_mp = seconds_per_megapixel(pipelines)

    print(f"{'pipeline':<24} {'MAE':>8} {'IoU@0.5':>8} {'edgeMAE':>8} {'s/image':>8} {'s/1MP':>8}")
    summary = {name: s.summary() for name, s in scores.items()}
    for name, s in summary.items():
        print(
            f"{name:<24} {s['mae']:8.4f} {s['iou']:8.4f} {s['edge_mae']:8.4f} {s['s_per_image']:8.4f} "
            f"{per_mp[name]:8.3f}"
        )
    ours = summary["pixcut"]
    if args.gate_iou is not None or args.gate_mae is not None:
        iou_ok = args.gate_iou is None or ours["iou"] >= args.gate_iou
        mae_ok = args.gate_mae is None or ours["mae"] <= args.gate_mae
        print(
            f"gate for {eng.model_name}: IoU {ours['iou']:.4f} (>= {args.gate_iou}: {'met' if iou_ok else 'NOT met'}), "
            f"MAE {ours['mae']:.4f} (<= {args.gate_mae}: {'met' if mae_ok else 'NOT met'})"
        )
    if peer_name in summary:
        stock = summary[peer_name]
        ratio = ours["s_per_image"] / stock["s_per_image"]
        better = ours["mae"] < stock["mae"] and ours["iou"] > stock["iou"]
        print(f"time ratio ours/stock: {ratio:.2f}x; better on MAE and IoU: {'yes' if better else 'no'}")
    return 0


def seconds_per_megapixel(
    pipelines: dict[str, Callable[[Image.Image], Image.Image]], repeat: int = 5
) -> dict[str, float]:
    """Median seconds per 1-megapixel photo (the bundled sample scaled to 1000x1000), per pipeline.

    Interleaved like :func:`run` so the pipelines share machine state.
    """
    photo = Image.open(REPO / "docs" / "samples" / "astronaut.jpg").convert("RGB").resize((1000, 1000))
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for fn in pipelines.values():
        fn(photo)
    for _ in range(repeat):
        for name, fn in pipelines.items():
            t0 = time.perf_counter()
            fn(photo)
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(ts)) for name, ts in times.items()}


if __name__ == "__main__":
    raise SystemExit(main())

"""Predict one mask with the offline engine and report timing (a helper for benchmarks/engine.py).

Usage::

    .venv/bin/python benchmarks/engine_mask.py IMAGE [-o MASK.png] [--model NAME|PATH] [--threads N]
        [--stock] [--repeat N]

Prints one JSON line: model, provider, threads, input size, seconds per prediction (median of
``--repeat``), and the foreground fraction (alpha > 127). ``--stock`` switches refinement off
(rembg's pipeline), for side-by-side timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from PIL import Image, ImageOps

from pixcut.engine import EngineOptions, get_engine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("-o", "--output", help="write the mask (mode L PNG) here")
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--stock", action="store_true", help="no refinement (rembg's pipeline)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    opts = EngineOptions.stock() if args.stock else EngineOptions()
    eng = get_engine(args.model, args.threads, options=opts)
    rgb = ImageOps.exif_transpose(Image.open(args.image)).convert("RGB")
    eng.predict_alpha(rgb.resize((64, 64)))  # warm-up: first run allocates ORT buffers
    times = []
    mask = None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        mask = eng.predict_alpha(rgb)
        times.append(time.perf_counter() - t0)
    assert mask is not None
    if args.output:
        mask.save(args.output)
    print(
        json.dumps(
            {
                "model": eng.model_name,
                "provider": eng.provider,
                "threads": args.threads,
                "options": "stock" if args.stock else "default",
                "size": list(rgb.size),
                "seconds": round(statistics.median(times), 4),
                "foreground_fraction": round(float((np.asarray(mask) > 127).mean()), 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

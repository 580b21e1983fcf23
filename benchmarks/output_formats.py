"""Output encodings of one photo-like cutout: PNG (pixcut's default level and zlib 6) against WebP.

Prints the median encode time and the bytes of each, in the same run, so the WebP
settings in core/pixcut/encoding.py can be judged against the PNG peer. The lossless
WebP rows show pixcut's setting (method 0, effort 0) and Pillow's default (method 4,
effort 80). Usage: python benchmarks/output_formats.py [--megapixels 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _images import photo_like, size_4_3, soft_matte
from PIL import Image

from pixcut.encoding import encode
from pixcut.finishing import make_cutout


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    times, value = [], b""
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def pillow_default_lossless(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=True)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megapixels", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = size_4_3(args.megapixels)
    cutout = make_cutout(photo_like(width, height), soft_matte(width, height))
    rows: list[tuple[str, Callable[[], bytes]]] = [
        ("PNG, pixcut default", lambda: encode(cutout, "png")),
        ("PNG, zlib level 6 (peer)", lambda: encode(cutout, "png", png_compression=6)),
        ("WebP lossless, pixcut", lambda: encode(cutout, "webp")),
        ("WebP lossless, Pillow default", lambda: pillow_default_lossless(cutout)),
        ("WebP lossy q90", lambda: encode(cutout, "webp", webp_quality=90)),
    ]
    print(f"{width}x{height} cutout ({width * height / 1e6:.1f} MP), median of {args.repeat}")
    results = [(name, *timed(fn, args.repeat)) for name, fn in rows]
    peer_time, peer = results[1][1], results[1][2]
    for name, seconds, data in results:
        print(
            f"{name:31s} {seconds:6.2f} s ({seconds / peer_time:4.2f}x peer)  "
            f"{len(data) / 1e6:6.2f} MB ({len(data) / len(peer):4.2f}x peer)"
        )


if __name__ == "__main__":
    main()

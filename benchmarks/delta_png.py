"""Delta PNG vs plain PNG for a 12-megapixel photo-like cutout.

Prints the bytes of each encoding and the time to get a usable RGBA result per
megapixel: rebuilding from Delta PNG (decode the delta + combine with the
already-decoded input) against decoding the plain PNG of the same result, in the
same run. Usage: python benchmarks/delta_png.py [--megapixels 12] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _images import photo_like, size_4_3, soft_matte
from PIL import Image

from pixcut.delta_png import decode_delta, encode_delta
from pixcut.encoding import encode
from pixcut.finishing import make_cutout


def timed(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = size_4_3(args.megapixels)
    mp = width * height / 1e6
    image = photo_like(width, height)
    cutout = make_cutout(image, soft_matte(width, height))

    t_png_enc, png = timed(lambda: encode(cutout, "png"), args.repeat)
    t_delta_enc, delta = timed(lambda: encode_delta(cutout), args.repeat)

    def decode_png() -> Image.Image:
        result = Image.open(io.BytesIO(png))
        result.load()
        return result

    t_png_dec, from_png = timed(decode_png, args.repeat)
    t_delta_dec, rebuilt = timed(lambda: decode_delta(delta, image), args.repeat)
    assert rebuilt.tobytes() == from_png.tobytes() == cutout.tobytes(), "round trip must be exact"

    print(f"Delta PNG benchmark: {width}x{height} ({mp:.1f} MP) photo-like cutout, median of {args.repeat}")
    print(f"{'':28}{'plain PNG':>14}{'Delta PNG':>14}")
    print(f"{'bytes':28}{len(png):>14,}{len(delta):>14,}   delta = {len(delta) / len(png):.1%} of PNG")
    print(f"{'encode ms/MP':28}{t_png_enc / mp * 1e3:>14.1f}{t_delta_enc / mp * 1e3:>14.1f}")
    print(
        f"{'decode/rebuild ms/MP':28}{t_png_dec / mp * 1e3:>14.1f}{t_delta_dec / mp * 1e3:>14.1f}"
        f"   (rebuild includes combining with the decoded input)"
    )


if __name__ == "__main__":
    main()

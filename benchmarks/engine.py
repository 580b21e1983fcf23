"""Offline engine speed and memory against the rembg library, same u2netp weights, same run.

1. Per-image latency (median) and peak RSS for a 1-megapixel and a 12-megapixel photo-like
   JPEG: file bytes in, PNG cutout bytes out. Each pipeline runs in its own fresh process so its
   peak RSS (ru_maxrss) is its own: pixcut's offline backend vs ``rembg.remove(data, session)``.
2. Throughput of a 50-image batch: ``pixcut remove DIR --out-dir OUT`` vs ``rembg p -m u2netp DIR OUT``.

The peer lives in .bench-venv (``bash benchmarks/setup-peer.sh``); it is skipped with a note if
missing. Usage: python benchmarks/engine.py [--repeat 5] [--batch 50] [--batch-megapixels 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _rembg_peer import PEER_PY, REMBG, have_peer, peer_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PIXCUT_PY = REPO / ".venv" / "bin" / "python"

# Runs inside a child interpreter: argv = impl, image path, repeat.
CHILD = r"""
import json, resource, statistics, sys, time
impl, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
if impl == "pixcut":
    from pixcut import remove_background
    from pixcut.backends import create_backend
    backend = create_backend("local")
    run = lambda: remove_background(data, backend=backend).data
else:
    from rembg import new_session, remove
    session = new_session("u2netp")
    run = lambda: remove(data, session=session)
out = run()  # warm-up: model load, first allocation
times = []
for _ in range(repeat):
    t0 = time.perf_counter(); out = run(); times.append(time.perf_counter() - t0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"median": statistics.median(times), "peak_mb": peak_mb, "bytes": len(out)}))
"""


def child(impl: str, image: Path, repeat: int) -> dict:
    python, env = (PIXCUT_PY, dict(os.environ)) if impl == "pixcut" else (PEER_PY, peer_env())
    proc = subprocess.run(
        [str(python), "-c", CHILD, impl, str(image), str(repeat)], capture_output=True, text=True, env=env, timeout=1800
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{impl} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_jpeg(path: Path, megapixels: float, seed: int = 0) -> None:
    sys.path.insert(0, str(HERE))
    from _images import photo_like

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    photo_like(width, int(width * 3 / 4), seed).save(path, "JPEG", quality=92)


def timed_command(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--batch-megapixels", type=float, default=1.0)
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    peer = have_peer()
    peer_note = ".bench-venv" if peer else "MISSING (bash benchmarks/setup-peer.sh)"
    print(f"cores: {os.cpu_count()}; peer rembg: {peer_note}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(
            f"\nper image (file bytes -> PNG cutout), median of {args.repeat} after a warm-up; peak RSS of the process"
        )
        print(f"{'image':>10} {'pipeline':>8} {'median s':>9} {'peak MB':>9}")
        for mp in (1, 12):
            image = tmp / f"photo_{mp}mp.jpg"
            make_jpeg(image, mp)
            for impl in ("pixcut", "rembg"):
                if impl == "rembg" and not peer:
                    continue
                r = child(impl, image, args.repeat)
                print(f"{mp:>8}MP {impl:>8} {r['median']:>9.2f} {r['peak_mb']:>9.0f}")
        if args.skip_batch:
            return
        src, out_a, out_b = tmp / "batch", tmp / "out_pixcut", tmp / "out_rembg"
        src.mkdir()
        for i in range(args.batch):
            make_jpeg(src / f"img{i:03d}.jpg", args.batch_megapixels, seed=i)
        print(f"\nbatch of {args.batch} photo-like JPEGs at {args.batch_megapixels:g} MP, whole command wall time")
        pixcut_bin = str(REPO / ".venv" / "bin" / "pixcut")
        t_pix = timed_command([pixcut_bin, "remove", str(src), "--out-dir", str(out_a), "-q"], dict(os.environ))
        print(f"{'pixcut remove':>16}: {t_pix:7.1f} s  {args.batch / t_pix:5.2f} images/s")
        if peer:
            t_rembg = timed_command([str(REMBG), "p", "-m", "u2netp", str(src), str(out_b)], peer_env())
            print(f"{'rembg p':>16}: {t_rembg:7.1f} s  {args.batch / t_rembg:5.2f} images/s")
            assert len(list(out_b.iterdir())) == args.batch
        assert len(list(out_a.iterdir())) == args.batch
        shutil.rmtree(src)


if __name__ == "__main__":
    main()

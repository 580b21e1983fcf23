"""Throughput on Ray vs the plain batch, same images, same run; and a projection for N machines.

1. 200 photo-like 1-megapixel JPEGs through ``pixcut remove DIR --out-dir OUT`` (the plain batch:
   one process, the engine using every core) and through ``pixcut remove DIR --out-dir OUT --ray``
   (a local Ray started and stopped by the command: one actor per core, one engine thread each).
   Whole-command wall time, so Ray's start-up and shut-down are in the figure.
2. From the Ray run's manifest (every row has its worker's pid and the time it finished):
   start-up (command start to the first finished image), the steady-state rate of the whole
   pool, the rate of each actor, and how much of an actor's time per image is the work itself
   (read + remove + write, timed inside the actor): the rest is Ray's scheduling overhead.
   For reference, the same engine with one thread in one process, no Ray.
3. A projection for N machines, with the assumptions printed next to it.

One run, on a shared machine: other jobs compete for the same cores, so the absolute figures
are noisy; the two commands run back to back under the same conditions.
Usage: .venv/bin/python benchmarks/ray_batch.py [--images 200] [--megapixels 1] [--machines 1 10 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PIXCUT = [str(REPO / ".venv" / "bin" / "python"), "-m", "pixcut"]
sys.path.insert(0, str(HERE))

from _images import photo_like, size_4_3  # noqa: E402


def make_jpeg(path: Path, megapixels: float, seed: int) -> None:
    photo_like(*size_4_3(megapixels), seed).save(path, "JPEG", quality=92)


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:5])} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - started


def engine_seconds_per_image(images: list[Path], threads: int) -> float:
    """Median time of one image through pixcut.api with a ``threads``-thread engine, in a fresh process."""
    child = (
        "import json, statistics, sys, time\n"
        "from pixcut.api import remove_background\n"
        "from pixcut.backends import BackendSettings, create_backend\n"
        f"backend = create_backend('local', BackendSettings(threads={threads}))\n"
        "paths = sys.argv[1:]\n"
        "remove_background(paths[0], backend=backend)\n"
        "times = []\n"
        "for p in paths:\n"
        "    t = time.perf_counter()\n"
        "    remove_background(p, backend=backend).data\n"
        "    times.append(time.perf_counter() - t)\n"
        "print(json.dumps(statistics.median(times)))\n"
    )
    proc = subprocess.run([PIXCUT[0], "-c", child, *map(str, images)], capture_output=True, text=True, check=True)
    return float(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--machines", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--cores-per-machine", type=int, default=16)
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory(prefix="pixcut-ray-bench-") as tmp_name:
        tmp = Path(tmp_name)
        src = tmp / "in"
        src.mkdir()
        for i in range(args.images):
            make_jpeg(src / f"img{i:04d}.jpg", args.megapixels, seed=i)
        print(f"{args.images} photo-like JPEGs at {args.megapixels:g} MP; this machine: {cores} cores (shared now)")

        t_plain = timed([*PIXCUT, "remove", str(src), "--out-dir", str(tmp / "plain"), "-q"])
        started = time.time()
        t_ray = timed([*PIXCUT, "remove", str(src), "--out-dir", str(tmp / "ray"), "--ray", "-q"])
        assert len(list((tmp / "plain").glob("*.png"))) == len(list((tmp / "ray").glob("*.png"))) == args.images

        print("\nwhole command, wall time (includes start-up)")
        print(f"  {'pixcut remove':>22}: {t_plain:7.1f} s  {args.images / t_plain:5.2f} images/s")
        print(f"  {'pixcut remove --ray':>22}: {t_ray:7.1f} s  {args.images / t_ray:5.2f} images/s")
        print(f"  ratio --ray / plain: {t_plain / t_ray:.2f}x the plain batch's throughput")

        rows = [
            json.loads(line)
            for part in (tmp / "ray" / "_pixcut_manifest").glob("*.jsonl")
            for line in part.read_text().splitlines()
        ]
        finished = sorted(float(r["finished_at"]) for r in rows)
        by_actor: dict[int, list[float]] = defaultdict(list)
        for row in rows:
            by_actor[int(row["worker_pid"])].append(float(row["finished_at"]))
        startup = finished[0] - started
        steady = (len(finished) - 1) / max(1e-9, finished[-1] - finished[0])
        per_actor = []
        for times in by_actor.values():
            times.sort()
            if len(times) > 1:
                per_actor.append((len(times) - 1) / (times[-1] - times[0]))
        actor_rate = statistics.mean(per_actor)
        work = statistics.mean(float(r["seconds"]) for r in rows)  # read + remove + write, inside the actor
        overhead = 1 / actor_rate - work  # the rest of an actor's time per image: Ray's share
        single = engine_seconds_per_image(sorted(src.glob("*.jpg"))[:12], threads=1)
        shutdown = t_ray - (finished[-1] - started)
        print("\nRay run, from its manifest")
        print(f"  start-up to the first finished image: {startup:5.1f} s (Ray start, actors, model load)")
        print(f"  after the last image (compaction, shut-down): {shutdown:5.1f} s")
        print(f"  actors: {len(by_actor)}; steady-state pool rate: {steady:5.2f} images/s")
        print(f"  per actor: {actor_rate:5.2f} images/s = {1 / actor_rate:5.3f} s/image")
        print(f"  of which read + remove + write inside the actor: {work:5.3f} s/image")
        print(f"  scheduler overhead (the rest): {overhead:5.3f} s/image ({overhead / (1 / actor_rate):.1%})")
        print(f"  same engine, 1 thread, one process, no Ray, measured after: {single:5.3f} s/image")

        per_core = actor_rate  # one actor per core, one engine thread per actor, overhead included
        print(f"\nprojection: {args.cores_per_machine}-core machines, 1M images")
        print("  assumptions: cores as fast as this machine's (measured while shared, so conservative);")
        print("  one actor per core, one engine thread each (as measured here); inputs and outputs on shared")
        print("  storage with bandwidth to spare (~0.3 MB in + ~1.3 MB out per 1 MP image); the driver only")
        print("  handles one small JSON row per image; start-up paid once per run; scaling linear in cores")
        print("  (no shared state but the manifest parts, written by the workers themselves).")
        for machines in args.machines:
            rate = machines * args.cores_per_machine * per_core
            hours = (startup + 1_000_000 / rate) / 3600
            print(f"  {machines:>4} machines: {rate:8.1f} images/s -> 1M images in {hours:6.2f} h")


if __name__ == "__main__":
    main()

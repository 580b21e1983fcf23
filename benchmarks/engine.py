"""Offline engine speed and memory against the rembg library: same u2netp weights, same run, side by side.

1. Per image, file bytes in -> PNG cutout bytes out, at 1 and 12 megapixels: median latency, CPU time
   (all threads; steadier than latency when other work shares the machine), peak RSS and PNG bytes of
   pixcut's offline backend (``pixcut.remove_background``) and of ``rembg.remove(data, session=...)``
   with ``new_session("u2netp")``. Each measurement runs in a fresh process (so the peak RSS is that
   pipeline's own), and the two alternate for ``--rounds`` rounds so both see the same machine state;
   every line prints the ratio pixcut / rembg.
2. The floor: bare decode + one inference on a ready tensor + PNG encoding of the cutout with
   pixcut's default settings (``_floor.py``), timed stage by stage alternately with pixcut's full
   pipeline in the same process; pixcut's distance to it is printed.
3. A batch of ``--batch`` JPEGs, whole command wall time: ``pixcut remove DIR --out-dir OUT`` vs
   ``rembg p -m u2netp DIR OUT``, alternating for ``--batch-rounds`` rounds.
4. One 1 MP image from the command line in a fresh process (what each GIMP or Krita run costs):
   ``pixcut remove IMG -o OUT`` vs ``rembg i -m u2netp IMG OUT``, alternating for ``--cold-rounds``.

The peer lives in .bench-venv (``bash benchmarks/setup-peer.sh``); without it only pixcut's figures are
printed. The images are generated (``_images.photo_like``), or ``--photo FILE`` resized to each size;
sections 1 and 4 read JPEGs, or PNGs with ``--input png`` (what the GIMP and Krita plug-ins hand over).

    .venv/bin/python benchmarks/engine.py [--repeat 5] [--rounds 2] [--batch 50] [--batch-rounds 1]
        [--cold-rounds 5] [--photo FILE] [--input jpg|png]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _floor import describe_floor
from _rembg_peer import PEER_PY, REMBG, have_peer, peer_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PIXCUT_PY = REPO / ".venv" / "bin" / "python"
PIXCUT_BIN = REPO / ".venv" / "bin" / "pixcut"

# Runs inside a child interpreter: argv = impl, image path, repeat.
# pixcut's child also times the floor's stages (``_floor.py``) after each run, in the same state,
# once its peak RSS is taken (the floor's extra objects must not count against the pipeline).
CHILD = r"""
import json, resource, statistics, sys, time
impl, path, repeat, here = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
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
times, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    out = run()
    times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result = {"median": statistics.median(times), "cpu": statistics.median(cpu), "peak_mb": peak_mb, "bytes": len(out)}
if impl == "pixcut":
    sys.path.insert(0, here)
    from _floor import floor_stages
    stages = floor_stages(data)
    floor = {name: [] for name in stages}
    whole = []
    for _ in range(repeat):
        t0 = time.perf_counter(); run(); whole.append(time.perf_counter() - t0)
        for name, stage in stages.items():
            t0 = time.perf_counter(); stage(); floor[name].append(time.perf_counter() - t0)
    result["floor"] = {name: statistics.median(v) for name, v in floor.items()}
    result["floor_pipeline"] = statistics.median(whole)
print(json.dumps(result))
"""


def run_child(args: list[str], python: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([str(python), "-c", *args], capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def single(impl: str, image: Path, repeat: int) -> dict[str, Any]:
    python, env = (PIXCUT_PY, dict(os.environ)) if impl == "pixcut" else (PEER_PY, peer_env())
    return run_child([CHILD, impl, str(image), str(repeat), str(HERE)], python, env)


def make_input(path: Path, megapixels: float, seed: int = 0, photo: Path | None = None) -> None:
    """A photo-like test image at ``megapixels``, as a JPEG or a PNG by ``path``'s suffix."""
    sys.path.insert(0, str(HERE))
    from _images import photo_like, size_4_3
    from PIL import Image

    width, height = size_4_3(megapixels)
    if photo is None:
        image = photo_like(width, height, seed)
    else:
        with Image.open(photo) as source:
            rgb = source.convert("RGB")
        scale = (megapixels * 1e6 / (rgb.width * rgb.height)) ** 0.5
        image = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.LANCZOS)
    if path.suffix == ".png":
        image.save(path, "PNG")  # Pillow's default level, like a GIMP or Krita layer export
    else:
        image.save(path, "JPEG", quality=92)


def timed_command(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:6.2f}x" if theirs else "     - "


def row(label: str, ours: float, theirs: float | None, fmt: str, goal: str = "") -> None:
    peer = format(theirs, fmt) if theirs is not None else "-"
    print(f"  {label:<24} {format(ours, fmt):>10} {peer:>10}   {ratio(ours, theirs)}   {goal}", flush=True)


def per_image(tmp: Path, megapixels: int, args: argparse.Namespace, peer: bool) -> None:
    image = tmp / f"photo_{megapixels}mp.{args.input}"
    make_input(image, megapixels, photo=args.photo)
    runs: dict[str, list[dict[str, Any]]] = {"pixcut": [], "rembg": []}
    for _ in range(args.rounds):  # alternate, so both pipelines see the same machine state
        for impl in ("pixcut", "rembg") if peer else ("pixcut",):
            runs[impl].append(single(impl, image, args.repeat))

    def med(impl: str, key: str) -> float | None:
        return statistics.median(r[key] for r in runs[impl]) if runs[impl] else None

    from PIL import Image

    with Image.open(image) as im:
        size = f"{im.width}x{im.height}"
    print(
        f"\n{megapixels} MP {args.input.upper()} ({size}), "
        f"median of {args.repeat} runs x {args.rounds} alternating rounds"
    )
    print(f"  {'':<24} {'pixcut':>10} {'rembg':>10}   {'ratio':>7}   goal")
    ours = med("pixcut", "median")
    assert ours is not None
    row("latency s", ours, med("rembg", "median"), ".3f", "<= 0.80x")
    row("CPU s (all threads)", med("pixcut", "cpu") or 0.0, med("rembg", "cpu"), ".3f", "(on a busy machine)")
    row("peak RSS MB", med("pixcut", "peak_mb") or 0.0, med("rembg", "peak_mb"), ".0f", "<= 1.00x")
    row("PNG bytes", med("pixcut", "bytes") or 0.0, med("rembg", "bytes"), ".0f", "<= 1.15x")
    last = runs["pixcut"][-1]
    floor, pipeline = last["floor"], last["floor_pipeline"]
    print(
        f"  floor s (timed alternately with pixcut's pipeline): {describe_floor(floor)}; "
        f"pipeline {pipeline:.3f} = {pipeline / sum(floor.values()):.2f}x the floor",
        flush=True,
    )


def batch(tmp: Path, args: argparse.Namespace, peer: bool) -> None:
    src = tmp / "batch"
    src.mkdir()
    for i in range(args.batch):
        make_input(src / f"img{i:03d}.jpg", args.batch_megapixels, seed=i, photo=args.photo)
    times: dict[str, list[float]] = {"pixcut": [], "rembg": []}
    for round_ in range(args.batch_rounds):
        out_a, out_b = tmp / f"out_pixcut{round_}", tmp / f"out_rembg{round_}"
        times["pixcut"].append(
            timed_command([str(PIXCUT_BIN), "remove", str(src), "--out-dir", str(out_a), "-q"], dict(os.environ))
        )
        assert len(list(out_a.iterdir())) == args.batch
        if peer:
            times["rembg"].append(timed_command([str(REMBG), "p", "-m", "u2netp", str(src), str(out_b)], peer_env()))
            assert len(list(out_b.iterdir())) == args.batch
    n = args.batch
    print(
        f"\nbatch of {n} JPEGs at {args.batch_megapixels:g} MP, whole command, {args.batch_rounds} alternating rounds"
    )
    print(f"  {'':<24} {'pixcut':>10} {'rembg p':>10}   {'ratio':>7}   goal")
    ours = n / statistics.median(times["pixcut"])
    theirs = n / statistics.median(times["rembg"]) if times["rembg"] else None
    row("images/s", ours, theirs, ".2f", ">= 1.50x")
    shutil.rmtree(src)


def cold_command(tmp: Path, args: argparse.Namespace, peer: bool) -> None:
    """One 1 MP image through the command line, a fresh process each time: what a GIMP or Krita
    run of ``pixcut remove`` costs (interpreter, imports, model load, first inference), against
    ``rembg i``."""
    image = tmp / f"cold_1mp.{args.input}"
    make_input(image, 1, seed=7, photo=args.photo)
    times: dict[str, list[float]] = {"pixcut": [], "rembg": []}
    for round_ in range(args.cold_rounds):
        times["pixcut"].append(
            timed_command(
                [str(PIXCUT_BIN), "remove", str(image), "-o", str(tmp / f"cold{round_}.png"), "-q"], dict(os.environ)
            )
        )
        if peer:
            cut = tmp / f"cold_rembg{round_}.png"
            times["rembg"].append(timed_command([str(REMBG), "i", "-m", "u2netp", str(image), str(cut)], peer_env()))
    print(
        f"\none 1 MP {args.input.upper()} from the command line (a fresh process), "
        f"median of {args.cold_rounds} alternating rounds"
    )
    print(f"  {'':<24} {'pixcut':>10} {'rembg i':>10}   {'ratio':>7}")
    theirs = statistics.median(times["rembg"]) if times["rembg"] else None
    row("seconds", statistics.median(times["pixcut"]), theirs, ".2f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per process, after a warm-up")
    parser.add_argument("--rounds", type=int, default=2, help="alternating pixcut/rembg processes per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 12], metavar="MP")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--batch-megapixels", type=float, default=1.0)
    parser.add_argument("--batch-rounds", type=int, default=1)
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--cold-rounds", type=int, default=5, help="fresh-process command-line runs (0: none)")
    parser.add_argument("--photo", type=Path, help="resize this photo to each size instead of generating one")
    parser.add_argument(
        "--input",
        choices=["jpg", "png"],
        default="jpg",
        help="the single-image and command-line inputs' format (png: what GIMP and Krita hand over); the batch is JPEG",
    )
    args = parser.parse_args()
    peer = have_peer()
    peer_note = ".bench-venv" if peer else "MISSING (bash benchmarks/setup-peer.sh): pixcut only"
    print(f"cores: {os.cpu_count()}; peer rembg: {peer_note}; images: {args.photo or 'generated photo-like'}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for megapixels in args.sizes:
            per_image(tmp, megapixels, args, peer)
        if not args.skip_batch:
            batch(tmp, args, peer)
        if args.cold_rounds:
            cold_command(tmp, args, peer)


if __name__ == "__main__":
    main()

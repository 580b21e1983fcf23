"""Benchmark ``pixcut serve``: throughput, latency and memory of a real server over loopback.

Starts ``python -m pixcut.server`` (the same code as ``pixcut serve``; real uvicorn) in a
subprocess, sends generated 1-megapixel photo-like PNGs, and prints:

- requests/second and p50/p99 latency at 1, 4 and 16 concurrent clients;
- the server's peak RSS (VmHWM from /proc/PID/status) over the run;
- RSS after every ``--seq-step`` of ``--seq`` sequential requests (memory must not grow).

The named peer is rembg's own server (``/work/main/.bench-venv/bin/rembg s``), run the same way
when it is installed with its CLI; otherwise the peer row says why it was skipped.
Every loop is bounded; only 127.0.0.1 is contacted.

    /work/main/.venv/bin/python benchmarks/server.py [--per-level 8 16 32] [--seq 500 --seq-step 100]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from _images import photo_like
from _rembg_peer import REMBG, peer_env
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
LEVELS = (1, 4, 16)


def photo(seed: int, size: tuple[int, int] = (1155, 866)) -> bytes:
    """A 1-megapixel photo-like PNG (see _images.photo_like)."""
    buffer = io.BytesIO()
    photo_like(*size, seed=seed).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB, for the process and its children summed where they exist."""
    values = {"VmRSS": 0, "VmHWM": 0}
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                key = line.split(":")[0]
                if key in values:
                    values[key] += int(line.split()[1])
        except OSError:
            continue
    return values["VmRSS"], values["VmHWM"]


@dataclass
class Target:
    name: str
    command: list[str]
    url: str
    health: str
    post: Callable[[requests.Session, str, bytes], requests.Response]
    env: dict[str, str] | None = None


def wait_ready(process: subprocess.Popen, health: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(health, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError("server did not become ready")


def run_level(target: Target, images: list[bytes], clients: int, count: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def one(index: int) -> None:
        nonlocal errors
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        started = time.perf_counter()
        try:
            status = target.post(session, target.url, images[index % len(images)]).status_code
        except requests.RequestException:
            status = None  # a reset or refused connection is an error of the server under test
        elapsed = time.perf_counter() - started
        with lock:
            if status == 200:
                latencies.append(elapsed)
            else:
                errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    wall = time.perf_counter() - started
    latencies.sort()
    p99_index = min(len(latencies) - 1, max(0, round(0.99 * len(latencies)) - 1))
    return {
        "clients": clients,
        "requests": count,
        "errors": errors,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[p99_index] if latencies else float("nan"),
    }


def bench(target: Target, images: list[bytes], per_level: list[int], seq: int, seq_step: int) -> dict:
    # The server's stderr goes to a file: an unread pipe fills up and stalls the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(target.command, stdout=subprocess.DEVNULL, stderr=log, env=target.env)
        try:
            wait_ready(process, target.health)
            target.post(requests.Session(), target.url, images[0])  # warm-up (model load, first inference)
            rows = [run_level(target, images, c, n) for c, n in zip(LEVELS, per_level, strict=True)]
            peak_after_load = rss_kib(process.pid)[1]
            trail = []
            session = requests.Session()
            for index in range(1, seq + 1):
                response = target.post(session, target.url, images[index % len(images)])
                if response.status_code != 200:
                    raise RuntimeError(f"sequential request {index}: HTTP {response.status_code}")
                if index % seq_step == 0:
                    trail.append((index, rss_kib(process.pid)[0]))
            return {
                "rows": rows,
                "peak_kib": rss_kib(process.pid)[1],
                "peak_levels_kib": peak_after_load,
                "trail": trail,
            }
        except (RuntimeError, requests.RequestException) as exc:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{exc}; server stderr ends: {' | '.join(tail)}") from exc
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def report(name: str, result: dict) -> None:
    print(f"{'server':<18} {'clients':>7} {'reqs':>5} {'err':>4} {'req/s':>7} {'p50 s':>7} {'p99 s':>7}")
    for row in result["rows"]:
        print(
            f"{name:<18} {row['clients']:>7} {row['requests']:>5} {row['errors']:>4} "
            f"{row['rps']:>7.2f} {row['p50']:>7.2f} {row['p99']:>7.2f}"
        )
    print(
        f"{name}: peak RSS (VmHWM) {result['peak_kib'] / 1024:.0f} MiB "
        f"(after the concurrency levels: {result['peak_levels_kib'] / 1024:.0f} MiB)"
    )
    trail = ", ".join(f"{n}: {kib / 1024:.0f} MiB" for n, kib in result["trail"])
    print(f"{name}: RSS after sequential requests  {trail}", flush=True)


def pixcut_target(port: int, workers: int) -> Target:
    base = f"http://127.0.0.1:{port}"
    command = [
        str(PYTHON),
        "-m",
        "pixcut.server",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--queue",
        "32",
        "--log-level",
        "warning",
    ]
    return Target(
        "pixcut serve",
        command,
        base + "/api/v2/remove-background",
        base + "/healthz",
        lambda s, url, data: s.post(url, files={"image": ("photo.png", data)}, timeout=300),
    )


def rembg_target(port: int) -> tuple[Target | None, str]:
    if not REMBG.exists():
        return None, f"{REMBG} does not exist"
    probe = subprocess.run(
        [str(REMBG), "s", "--help"], capture_output=True, text=True, timeout=120, check=False, env=peer_env()
    )
    if probe.returncode != 0:
        first = (probe.stdout + probe.stderr).strip().splitlines()
        return None, f"'rembg s --help' failed: {first[0] if first else probe.returncode}"
    base = f"http://127.0.0.1:{port}"
    command = [str(REMBG), "s", "--host", "127.0.0.1", "--port", str(port), "--log_level", "warning"]
    return Target(
        "rembg s (u2netp)",
        command,
        base + "/api/remove",
        base + "/api",
        lambda s, url, data: s.post(url, files={"file": ("photo.png", data)}, data={"model": "u2netp"}, timeout=300),
        env=peer_env(),
    ), ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--per-level",
        type=int,
        nargs=3,
        default=[8, 16, 32],
        metavar=("N1", "N4", "N16"),
        help="requests at 1, 4 and 16 clients",
    )
    parser.add_argument("--seq", type=int, default=500, help="sequential requests for the memory trail")
    parser.add_argument("--seq-step", type=int, default=100, help="RSS sample every N sequential requests")
    parser.add_argument("--workers", type=int, default=2, help="pixcut serve --workers")
    parser.add_argument("--no-peer", action="store_true", help="skip the rembg peer")
    args = parser.parse_args()

    images = [photo(seed) for seed in range(4)]
    with Image.open(io.BytesIO(images[0])) as first:
        size = first.size
    print(
        f"inputs: {len(images)} generated PNGs, {size[0]}x{size[1]} = {size[0] * size[1] / 1e6:.2f} MP, "
        f"~{len(images[0]) / 1e6:.1f} MB each; cpu count {os.cpu_count()}",
        flush=True,
    )

    targets: list[Target] = [pixcut_target(free_port(), args.workers)]
    skipped = ""
    if args.no_peer:
        skipped = "--no-peer"
    else:
        peer, skipped = rembg_target(free_port())
        if peer is not None:
            targets.append(peer)

    failed = 0
    for target in targets:
        print(f"\nrunning {target.name} ...", flush=True)
        try:
            report(target.name, bench(target, images, args.per_level, args.seq, args.seq_step))
        except RuntimeError as exc:
            failed += 1
            print(f"{target.name}: FAILED: {exc}", flush=True)
    if skipped:
        print(f"\nrembg s skipped: {skipped}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark ``pixcut serve`` against ``rembg s``: throughput, latency and memory over loopback, side by side.

Starts ``python -m pixcut.server`` (the same code as ``pixcut serve``; real uvicorn) and the named peer,
rembg's own server (``.bench-venv/bin/rembg s``, see ``benchmarks/setup-peer.sh``; same u2netp file), both
at once, and sends generated 1-megapixel photo-like PNGs. The two are measured alternately, level by
level, so both see the same machine state, and every line prints the ratio pixcut / rembg:

- requests/second and p50/p99 latency at 1, 4 and 16 concurrent clients;
- each server's peak RSS (VmHWM from /proc/PID/status) over the run;
- RSS after every ``--seq-step`` of ``--seq`` sequential requests (memory must not grow);
- the floor of one request (bare decode + inference + PNG encode, see ``_floor.py``).

Without the peer only pixcut's column is filled and the reason is printed. Every loop is bounded; only
127.0.0.1 is contacted.

    .venv/bin/python benchmarks/server.py [--per-level 8 16 32] [--seq 500 --seq-step 100] [--workers 2]
        [--runtime onnxruntime|ncnn] [--threads N] [--no-peer]
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
from _floor import describe_floor, measure_floor
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


class Running:
    """A started server: its process, its stderr log and what was measured so far."""

    def __init__(self, target: Target) -> None:
        self.target = target
        # The server's stderr goes to a file: an unread pipe fills up and stalls the server.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(target.command, stdout=subprocess.DEVNULL, stderr=self.log, env=target.env)
        self.rows: list[dict[str, float]] = []
        self.trail: list[tuple[int, int]] = []
        self.peak_levels_kib = 0
        self.failure = ""

    def ready(self, images: list[bytes]) -> None:
        wait_ready(self.process, self.target.health)
        self.target.post(requests.Session(), self.target.url, images[0])  # warm-up: model load, first run

    def level(self, images: list[bytes], clients: int, count: int) -> None:
        self.rows.append(run_level(self.target, images, clients, count))

    def sequential(self, images: list[bytes], seq: int, seq_step: int) -> None:
        session = requests.Session()
        for index in range(1, seq + 1):
            response = self.target.post(session, self.target.url, images[index % len(images)])
            if response.status_code != 200:
                raise RuntimeError(f"sequential request {index}: HTTP {response.status_code}")
            if index % seq_step == 0:
                self.trail.append((index, rss_kib(self.process.pid)[0]))

    def fail(self, exc: Exception) -> None:
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace").strip().splitlines()[-5:]
        self.failure = f"{exc}; server stderr ends: {' | '.join(tail)}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def bench(targets: list[Target], images: list[bytes], per_level: list[int], seq: int, seq_step: int) -> list[Running]:
    """Run every target through the same steps, alternating between them at each step."""
    running = [Running(target) for target in targets]
    try:
        turn = 0

        def each(step: Callable[[Running], None]) -> None:
            nonlocal turn  # who goes first alternates, so a machine growing busier or quieter favours neither
            turn += 1
            for server in running if turn % 2 else running[::-1]:
                if server.failure:
                    continue
                try:
                    step(server)
                except (RuntimeError, requests.RequestException) as exc:
                    server.fail(exc)

        each(lambda server: server.ready(images))
        for clients, count in zip(LEVELS, per_level, strict=True):
            print(f"  {clients} client(s) ...", flush=True)
            each(lambda server, c=clients, n=count: server.level(images, c, n))
        for server in running:
            server.peak_levels_kib = rss_kib(server.process.pid)[1]
        each(lambda server: server.sequential(images, seq, seq_step))
        for server in running:
            server.peak_levels_kib = max(server.peak_levels_kib, rss_kib(server.process.pid)[1])
    finally:
        for server in running:
            server.stop()
    return running


def ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:5.2f}x" if theirs else "    - "


def report(ours: Running, peer: Running | None, floor: dict[str, float] | None) -> None:
    """One table: pixcut, rembg and pixcut/rembg for every measure."""
    peer_rows = {int(row["clients"]): row for row in peer.rows} if peer else {}
    print(
        f"\n{'clients':>7} | {'req/s pixcut':>12} {'rembg':>7} {'ratio':>6} | {'p99 s pixcut':>12} {'rembg':>7} "
        f"{'ratio':>6} | {'p50 s pixcut':>12} {'rembg':>7} | errors"
    )
    for row in ours.rows:
        other = peer_rows.get(int(row["clients"]))
        rps_peer = other["rps"] if other else None
        p99_peer = other["p99"] if other else None
        p50_peer = other["p50"] if other else None
        errors = f"{row['errors']:.0f}/{other['errors']:.0f}" if other else f"{row['errors']:.0f}/-"
        print(
            f"{row['clients']:>7.0f} | {row['rps']:>12.2f} {_num(rps_peer, '.2f'):>7} "
            f"{ratio(row['rps'], rps_peer):>6} | "
            f"{row['p99']:>12.2f} {_num(p99_peer, '.2f'):>7} {ratio(row['p99'], p99_peer):>6} | "
            f"{row['p50']:>12.2f} {_num(p50_peer, '.2f'):>7} | {errors}"
        )
    print("goal: req/s ratio >= 1.30x and p99 ratio < 1.00x at every level")
    mib = 1024
    peak_peer = peer.peak_levels_kib / mib if peer and peer.peak_levels_kib else None
    print(
        f"peak RSS MiB: pixcut {ours.peak_levels_kib / mib:.0f}, rembg {_num(peak_peer, '.0f')}, "
        f"ratio {ratio(ours.peak_levels_kib / mib, peak_peer).strip()}"
    )
    for server in (ours, peer):
        if server and server.trail:
            trail = ", ".join(f"{n}: {kib / mib:.0f}" for n, kib in server.trail)
            print(f"RSS MiB after sequential requests, {server.target.name}: {trail}")
    if floor:
        total = sum(floor.values())
        one = ours.rows[0]["p50"] if ours.rows else float("nan")
        print(f"floor of one request s: {describe_floor(floor)}; pixcut's 1-client p50 at {one / total:.2f}x the floor")
    for server in (ours, peer):
        if server and server.failure:
            print(f"{server.target.name}: FAILED: {server.failure}")


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def pixcut_target(port: int, workers: int | None, runtime: str | None, threads: int | None = None) -> Target:
    base = f"http://127.0.0.1:{port}"
    command = [
        str(PYTHON),
        "-m",
        "pixcut.server",
        "--port",
        str(port),
        *(["--workers", str(workers)] if workers else []),
        "--queue",
        "32",
        "--log-level",
        "warning",
        *(["--runtime", runtime] if runtime else []),
        *(["--threads", str(threads)] if threads else []),
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
    parser.add_argument("--seq", type=int, default=500, help="sequential requests for the memory trail (0: none)")
    parser.add_argument("--seq-step", type=int, default=100, help="RSS sample every N sequential requests")
    parser.add_argument("--workers", type=int, help="pixcut serve --workers (default: the server's own)")
    parser.add_argument("--runtime", help="pixcut serve --runtime (default: the server's default)")
    parser.add_argument("--threads", type=int, help="pixcut serve --threads (default: the server's own)")
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

    targets: list[Target] = [pixcut_target(free_port(), args.workers, args.runtime, args.threads)]
    skipped = ""
    if args.no_peer:
        skipped = "--no-peer"
    else:
        peer, skipped = rembg_target(free_port())
        if peer is not None:
            targets.append(peer)
    running = bench(targets, images, args.per_level, args.seq, max(1, args.seq_step))
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "photo.png"
        sample.write_bytes(images[0])
        floor = measure_floor(sample)
    report(running[0], running[1] if len(running) > 1 else None, floor)
    if skipped:
        print(f"\nrembg s skipped: {skipped}")
    return 1 if any(server.failure for server in running) else 0


if __name__ == "__main__":
    sys.exit(main())

"""``pixcut serve`` under hostile load: peak memory and answers, next to the same server under plain load.

Two fresh servers, one after the other, same flags, same images:

- **plain**: 16 clients x 30 requests (1 MP PNGs);
- **hostile**: 14 such clients, plus one sending absurd margins / target sizes (``result.margin=10000px``,
  ``100000%``, ``99999999999999999999px``, ``result.target_size=25000 25000``) and one trickling its upload
  one byte every 0.1 s (cut off by ``--request-timeout``).

Prints, for each: answers by status, wall time and the server's peak RSS (VmHWM from /proc), and the
ratio hostile/plain. The bound documented in docs/server.md ("Limits") is what this should stay under;
``tests/server/test_serve_hardening.py`` asserts it on smaller images.

    .venv/bin/python benchmarks/server_hostile.py [--workers N] [--queue 8] [--request-timeout 5] [--per-client 30]
"""

from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

API_PATH = "/api/v2/remove-background"
HOSTILE = [
    {"result.margin": "10000px"},
    {"result.margin": "100000%"},
    {"result.margin": "99999999999999999999px"},
    {"result.target_size": "25000 25000"},
]


def photo() -> bytes:
    image = Image.linear_gradient("L").resize((1155, 866)).convert("RGB")
    ImageDraw.Draw(image).ellipse((350, 200, 800, 700), fill=(200, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(flags: list[str], hostile: bool, data: bytes, per_client: int) -> tuple[Counter[int], float, float]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixcut", "serve", "--port", str(port), "--log-level", "warning", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}{API_PATH}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        done = threading.Event()

        def normal() -> None:
            with httpx.Client(timeout=300) as client:
                for _ in range(per_client):
                    status = client.post(url, files={"image": ("p.png", data)}).status_code
                    with lock:
                        statuses[status] += 1

        def bad() -> None:
            with httpx.Client(timeout=300) as client:
                for index in range(per_client):
                    form = HOSTILE[index % len(HOSTILE)]
                    status = client.post(url, files={"image": ("p.png", data)}, data=form).status_code
                    with lock:
                        statuses[status] += 1

        def trickle() -> None:
            head = (
                f"POST {API_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                "Content-Length: 100000\r\n\r\n"
            ).encode()
            for _ in range(per_client):
                if done.is_set():
                    return
                with socket.create_connection(("127.0.0.1", port)) as sock:
                    try:
                        sock.sendall(head + b"--b\r\n")  # a valid start: only the pace is wrong
                        while True:
                            sock.sendall(b"x")
                            time.sleep(0.1)
                    except OSError:
                        pass
                    try:
                        answer = sock.recv(100)
                    except OSError:
                        answer = b""
                if answer.startswith(b"HTTP/1.1 "):
                    with lock:
                        statuses[int(answer[9:12])] += 1

        workers = [threading.Thread(target=normal) for _ in range(14 if hostile else 16)]
        extra = [threading.Thread(target=bad), threading.Thread(target=trickle)] if hostile else []
        started = time.perf_counter()
        for thread in workers + extra:
            thread.start()
        for thread in workers + extra[:1]:
            thread.join()
        done.set()
        for thread in extra[1:]:
            thread.join()
        return statuses, time.perf_counter() - started, peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", help="pixcut serve --workers (default: the server's own)")
    parser.add_argument("--queue", default="8")
    parser.add_argument("--request-timeout", default="5")
    parser.add_argument("--per-client", type=int, default=30, help="requests per client (default 30)")
    args = parser.parse_args()
    flags = [*(["--workers", args.workers] if args.workers else []), "--queue", args.queue]
    flags += ["--request-timeout", args.request_timeout]
    data = photo()
    plain = run(flags, hostile=False, data=data, per_client=args.per_client)
    rough = run(flags, hostile=True, data=data, per_client=args.per_client)
    for name, (statuses, wall, peak) in (("plain", plain), ("hostile", rough)):
        print(f"{name:8} answers {dict(sorted(statuses.items()))}  wall {wall:.1f} s  server peak RSS {peak:.0f} MiB")
    print(f"peak RSS hostile / plain: {rough[2] / plain[2]:.2f}; any 5xx: {any(s >= 500 for s in rough[0])}")
    return 1 if any(status >= 500 for status in rough[0]) else 0


if __name__ == "__main__":
    sys.exit(main())

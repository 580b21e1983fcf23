"""The offline batch runs two removals at once (issue 9) and keeps every batch guarantee.

Real ``pixcut remove`` processes on the real engine: per-item event order, results identical to a
one-at-a-time run, atomic outputs, Ctrl-C, and ``--skip-existing`` resuming an interrupted batch.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from PIL import Image
from support import make_photo, signal_batch_after_first_result

from pixcut.batch import LOCAL_JOBS, BatchItem, run_batch


def _inputs(folder: Path, count: int) -> Path:
    folder.mkdir()
    for index in range(count):
        box = (20 + 5 * index, 30, 200 + 5 * index, 210)
        make_photo((320, 240), box).save(folder / f"p{index:02}.png")
    return folder


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _remove(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def test_run_batch_really_runs_jobs_items_at_once(tmp_path: Path) -> None:
    """Two items must be inside ``process`` at the same time, or the barrier times out."""
    barrier = threading.Barrier(LOCAL_JOBS, timeout=60)
    items = [BatchItem(tmp_path / f"{i}.png", tmp_path / f"{i}-out.png") for i in range(4)]

    def process(item: BatchItem) -> dict[str, Any]:
        barrier.wait()  # BrokenBarrierError (an error event) if the items ran one by one
        return {"event": "result", "input": str(item.input)}

    events: list[dict[str, Any]] = []
    summary = run_batch(items, process, events.append, jobs=LOCAL_JOBS, ramp_interval=0.0)
    assert (summary.done, summary.failed) == (4, 0)


def test_default_offline_batch_keeps_per_item_order_and_equals_a_sequential_run(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in", 6)
    parallel = _remove(inputs, "--out-dir", tmp_path / "a", "--json")
    sequential = _remove(inputs, "--out-dir", tmp_path / "b", "--json", "--jobs", "1")
    assert parallel.returncode == 0 and sequential.returncode == 0, parallel.stderr + sequential.stderr

    events = _events(parallel.stdout)
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary" and events[-1]["done"] == 6
    in_flight, most = set(), 0
    for name in sorted(p.name for p in inputs.iterdir()):
        mine = [e for e in events if (e.get("input") or "").endswith(name)]
        kinds = [(e["event"], e.get("stage")) for e in mine]
        assert kinds == [("progress", "processing"), ("result", None), ("progress", "finished")], kinds
    for event in events:  # how many items were between "processing" and "finished" at once
        if event["event"] == "progress" and event["stage"] == "processing":
            in_flight.add(event["input"])
        elif event["event"] == "progress" and event["stage"] == "finished":
            in_flight.discard(event["input"])
        most = max(most, len(in_flight))
    assert most <= LOCAL_JOBS

    for out in sorted((tmp_path / "b").iterdir()):  # same bytes as one at a time
        assert (tmp_path / "a" / out.name).read_bytes() == out.read_bytes()


def test_ctrl_c_finishes_items_in_flight_atomically_and_skip_existing_resumes(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in", 12)
    out_dir = tmp_path / "out"
    returncode, events = signal_batch_after_first_result(inputs, out_dir, signal.SIGINT)
    summary = events[-1]
    assert returncode == 130
    assert summary["event"] == "summary" and summary["interrupted"] is True
    assert 1 <= summary["done"] < 12 and summary["failed"] == 0
    written = sorted(out_dir.iterdir())
    assert [p.name for p in written if not p.name.endswith(".png")] == []  # no temporaries left
    assert len(written) == summary["done"]
    for path in written:  # every output complete
        with Image.open(path) as image:
            image.load()

    resumed = _remove(inputs, "--out-dir", out_dir, "--json", "--skip-existing")
    assert resumed.returncode == 0, resumed.stderr
    final = _events(resumed.stdout)[-1]
    assert (final["skipped"], final["done"], final["failed"]) == (summary["done"], 12 - summary["done"], 0)
    assert len(list(out_dir.iterdir())) == 12

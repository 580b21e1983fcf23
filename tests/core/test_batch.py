"""Batch mechanics: the provider's ramp-up, independent failures, interruption."""

import threading
import time
from pathlib import Path

from pixcut.batch import BatchItem, plan_outputs, run_batch
from pixcut.errors import AuthenticationError, ImageError, OptionsError


def items(n, tmp_path):
    return [BatchItem(Path(f"in{i}.png"), tmp_path / f"out{i}.png") for i in range(n)]


def test_ramp_up_starts_five_workers_then_one_per_interval(tmp_path):
    started: dict[str, float] = {}
    t0 = time.monotonic()
    lock = threading.Lock()

    def process(item):
        with lock:
            started.setdefault(threading.current_thread().name, time.monotonic() - t0)
        time.sleep(0.6)
        return {"event": "result"}

    run_batch(items(14, tmp_path), process, lambda e: None, jobs=7, ramp_interval=0.3)
    assert len(started) == 7
    by_worker = [started[f"pixcut-worker-{i}"] for i in range(7)]
    assert max(by_worker[:5]) < 0.3  # the first five start at once
    assert by_worker[5] >= 0.3 and by_worker[6] >= 0.6  # then one more per interval, never earlier


def test_late_workers_do_not_hold_up_a_finished_batch(tmp_path):
    t0 = time.monotonic()
    run_batch(items(2, tmp_path), lambda item: {"event": "result"}, lambda e: None, jobs=10, ramp_interval=60)
    assert time.monotonic() - t0 < 30


def test_errors_are_events_and_the_batch_goes_on(tmp_path):
    seen = []

    def process(item):
        if item.input.name == "in1.png":
            raise ImageError("bad file")
        return {"event": "result", "credits_charged": 1.5}

    summary = run_batch(items(3, tmp_path), process, seen.append)
    assert (summary.done, summary.failed, summary.credits_charged) == (2, 1, 3.0)
    assert any(e["event"] == "error" and e["error"]["code"] == 1006 for e in seen)


def test_stop_lets_running_items_finish_and_starts_no_more(tmp_path):
    stop = threading.Event()
    done = []

    def process(item):
        stop.set()
        time.sleep(0.05)
        done.append(item)
        return {"event": "result"}

    summary = run_batch(items(5, tmp_path), process, lambda e: None, jobs=1, stop=stop)
    assert len(done) == 1 and summary.interrupted


def test_plan_outputs_refuses_collisions(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "x.png").write_bytes(b"")
    try:
        plan_outputs(
            [str(tmp_path / "a" / "x.png"), str(tmp_path / "b" / "x.png")],
            output=None,
            out_dir=str(tmp_path / "out"),
            extension=".png",
        )
    except OptionsError as exc:
        assert "both be written" in str(exc)
    else:
        raise AssertionError("a collision must be refused")
    planned = plan_outputs(
        [str(tmp_path)], output=None, out_dir=str(tmp_path / "out"), extension=".png", recursive=True
    )
    assert sorted(str(i.output.relative_to(tmp_path / "out")) for i in planned) == ["a/x.png", "b/x.png"]


def test_a_setup_error_stops_the_batch_instead_of_failing_every_item(tmp_path):
    seen = []
    calls = []

    def process(item):
        calls.append(item)
        raise AuthenticationError("Invalid API credentials", status=401, code=1200)

    summary = run_batch(items(6, tmp_path), process, seen.append, jobs=1)
    assert len(calls) == 1
    assert (summary.failed, summary.not_attempted, summary.interrupted) == (1, 5, False)
    assert summary.stopped_by == "Invalid API credentials"
    assert seen[-1]["stopped_by"] == "Invalid API credentials" and seen[-1]["not_attempted"] == 5

"""``pixcut remove --watch``: a real process watching a real folder, fed like a camera tool or cp would.

Files are written slowly in chunks (pauses shorter than the settle time), straight into
the folder or under a temporary name and renamed in. Each must be processed exactly
once and never half-read (a half-read PNG would be an error event), a replaced file
once more, and SIGINT (Ctrl-C) must end the watch with a summary. Waiting for events
uses generous deadlines; nothing asserts how long anything took.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from support import make_photo, raised_within

from pixcut.errors import OptionsError
from pixcut.watch import WatchedFolder, run_watch


class Watcher:
    """``pixcut remove --watch`` in its own process; its JSON events collected by a reader thread."""

    def __init__(self, folder: Path, out: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pixcut", "remove", "--watch", str(folder), "--out-dir", str(out), "--json", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def wait_for(self, predicate, what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"pixcut exited ({self.proc.returncode}) before {what}: {self.proc.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s; events: {self.events}")
            time.sleep(0.05)

    def results_for(self, name: str) -> list[dict]:
        return [e for e in self.events if e["event"] == "result" and Path(e["input"]).name == name]


def png(seed: int) -> bytes:
    """A PNG large enough to need many chunks (noise does not compress)."""
    image = make_photo((320, 240))
    image.putdata([((i * 7919 + seed) % 256, (i * 104729) % 256, seed % 256) for i in range(320 * 240)])
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def slow_write(path: Path, data: bytes, chunks: int = 6, pause: float = 0.3) -> None:
    """Write in chunks with pauses (each shorter than pixcut's settle time), like a slow copy."""
    step = len(data) // chunks + 1
    with open(path, "wb") as handle:
        for start in range(0, len(data), step):
            handle.write(data[start : start + step])
            handle.flush()
            os.fsync(handle.fileno())
            time.sleep(pause)


def test_watch_processes_each_completed_file_once_and_ctrl_c_prints_a_summary(tmp_path):
    folder, out, staging = tmp_path / "in", tmp_path / "out", tmp_path / "staging"
    folder.mkdir(), out.mkdir(), staging.mkdir()
    (folder / "present.png").write_bytes(png(1))
    (folder / "done-before.png").write_bytes(png(2))
    (out / "done-before.png").write_bytes(b"an earlier result")  # like --skip-existing
    watcher = Watcher(folder, out)
    try:
        watcher.wait_for(lambda evs: watcher.results_for("present.png"), "result for the file already there")
        start = watcher.events[0]
        assert start["event"] == "start" and start["total"] == 2 and start["watch"] == str(folder.resolve())
        assert any(e["event"] == "skipped" and e["input"].endswith("done-before.png") for e in watcher.events)

        slow_write(folder / "direct.png", png(3))  # written in place, slowly
        slow_write(folder / ".renamed.png.part", png(4))  # a temporary name, then renamed in
        os.rename(folder / ".renamed.png.part", folder / "renamed.png")
        slow_write(staging / "moved.png", png(5))  # written elsewhere, moved in
        os.rename(staging / "moved.png", folder / "moved.png")
        (folder / "notes.txt").write_text("not an image")
        for name in ("direct.png", "renamed.png", "moved.png"):
            watcher.wait_for(lambda evs, n=name: watcher.results_for(n), f"result for {name}")

        replacement = png(6)
        slow_write(staging / "direct.png", replacement)
        os.replace(staging / "direct.png", folder / "direct.png")  # a new version of a processed file
        watcher.wait_for(lambda evs: len(watcher.results_for("direct.png")) == 2, "result for the replaced file")
    finally:
        watcher.proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = watcher.proc.wait(timeout=120)
        watcher.reader.join(timeout=30)

    errors = [e for e in watcher.events if e["event"] == "error"]
    assert errors == []  # a half-read PNG would have been an error
    for name, count in [("present.png", 1), ("renamed.png", 1), ("moved.png", 1), ("direct.png", 2)]:
        assert len(watcher.results_for(name)) == count, name
    assert not any(Path(e.get("input") or "").name.startswith(".") for e in watcher.events)
    for name in ("present", "direct", "renamed", "moved"):
        assert Image.open(out / f"{name}.png").size == (320, 240)
    summary = watcher.events[-1]
    assert summary["event"] == "summary" and summary["interrupted"] is True
    assert (summary["done"], summary["failed"], summary["skipped"]) == (5, 0, 1)
    assert code == 130


def test_watch_options_are_checked_before_watching(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    with pytest.raises(OptionsError, match="outside"):
        WatchedFolder(folder, folder, ".png")
    with pytest.raises(OptionsError, match="outside"):
        WatchedFolder(folder, folder / "out", ".png", recursive=True)
    with pytest.raises(OptionsError, match="not a folder"):
        WatchedFolder(tmp_path / "missing", tmp_path / "out", ".png")
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", "--watch", str(folder), "-o", "x.png"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "--out-dir" in proc.stderr


def test_a_file_still_being_copied_when_the_watch_starts_is_read_once_whole(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir(), out.mkdir()
    writer = threading.Thread(target=slow_write, args=(folder / "arriving.png", png(7)), kwargs={"chunks": 16})
    writer.start()
    while not (folder / "arriving.png").exists():
        time.sleep(0.01)
    watcher = Watcher(folder, out)  # starts while the copy is under way
    try:
        writer.join()
        watcher.wait_for(lambda evs: watcher.results_for("arriving.png"), "result for the arriving file")
    finally:
        watcher.proc.send_signal(signal.SIGINT)
        watcher.proc.wait(timeout=120)
        watcher.reader.join(timeout=30)
    assert [e for e in watcher.events if e["event"] == "error"] == []
    assert len(watcher.results_for("arriving.png")) == 1
    assert Image.open(out / "arriving.png").size == (320, 240)


def test_a_reporter_that_raises_ends_the_watch_instead_of_stalling_it(tmp_path):
    """A bug escaping an item stops the watch and reaches the caller; before, the worker died and
    the watch went on queueing files nobody would process."""
    watched_dir, out = tmp_path / "in", tmp_path / "out"
    watched_dir.mkdir()
    (watched_dir / "a.png").write_bytes(png(1))
    processed = []

    def process(item):
        processed.append(item.input.name)
        return {"event": "result", "input": str(item.input), "output": str(item.output)}

    def report(event):
        if event["event"] == "result":
            raise RuntimeError("reporter bug")

    raised = raised_within(lambda: run_watch(WatchedFolder(watched_dir, out, ".png"), process, report, settle=0.1))
    assert isinstance(raised, RuntimeError) and processed == ["a.png"]

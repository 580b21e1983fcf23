"""A watched folder: ``pixcut remove --watch DIR --out-dir OUT`` (tethered shooting, hot folders).

What is already in DIR is processed first (inputs whose output exists are skipped,
as with ``--skip-existing``); then every new or replaced image, once, as soon as it is
completely written, until Ctrl-C (or SIGTERM). Events and the summary are the batch's.

"Completely written" is decided by settling, the only signal that works for every
writer (cp, rsync, a camera tool, a network share): a file is read only after no
change was reported for it for ``settle`` seconds *and* its size, mtime and inode are
the same as when it was last seen. A writer that renames a finished temporary file
into place (rsync, most tethering tools) is picked up at once after the settle time;
temporary names (hidden files, other suffixes) are never read. A file whose content
signature was already processed is not processed again; a replaced file is.

The watcher is ``watchfiles`` (Rust ``notify``: inotify on Linux, FSEvents, ReadDirectoryChangesW),
chosen over ``watchdog`` for its single blocking iterator with a stop event and
timeouts, which is all this loop needs. Inputs are processed one at a time on a
worker thread, so Ctrl-C in the main thread lets the item in flight finish.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from pixcut.batch import (
    BatchItem,
    BatchSummary,
    Event,
    process_item,
    sigterm_stops,
)
from pixcut.errors import OptionsError
from pixcut.imageio import INPUT_SUFFIXES

SETTLE_SECONDS = 1.0  # no change for this long, and the same size/mtime/inode: the file is complete
TICK_MS = 200  # how often the loop wakes without events, to check settling files and Ctrl-C

Signature = tuple[int, int, int]  # (size, mtime_ns, inode)


def signature(path: Path) -> Signature | None:
    """What identifies one version of a file; None when it is gone (or not a regular file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


@dataclass
class WatchedFolder:
    """Which files of a folder are inputs, and where each one's output goes."""

    folder: Path
    out_dir: Path
    extension: str
    recursive: bool = False

    def __post_init__(self) -> None:
        if not self.folder.is_dir():
            raise OptionsError(f"--watch: {self.folder} is not a folder")
        folder, out = self.folder.resolve(), self.out_dir.resolve()
        if out == folder or (self.recursive and folder in out.parents):
            raise OptionsError("--watch: --out-dir must be outside the watched folder (outputs would be re-read)")

    def is_input(self, path: Path) -> bool:
        """An image by its name, not hidden (temporary copies), inside the folder (or its sub-folders)."""
        if path.suffix.lower() not in INPUT_SUFFIXES or path.name.startswith("."):
            return False
        try:
            relative = path.resolve().relative_to(self.folder.resolve())
        except ValueError:
            return False
        return self.recursive or len(relative.parts) == 1

    def output_for(self, path: Path) -> Path:
        relative = path.resolve().parent.relative_to(self.folder.resolve())
        return self.out_dir / relative / f"{path.stem}{self.extension}"

    def existing(self) -> list[Path]:
        pattern = "**/*" if self.recursive else "*"
        return [p for p in sorted(self.folder.resolve().glob(pattern)) if p.is_file() and self.is_input(p)]


@dataclass
class _Pending:
    changed_at: float
    signature: Signature | None


@dataclass
class _State:
    summary: BatchSummary = field(default_factory=BatchSummary)
    seen: int = 0  # every input the watch has taken on (the progress events' "total")
    processed: dict[Path, Signature] = field(default_factory=dict)
    pending: dict[Path, _Pending] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: What escaped process_item in the worker: the watch stops and re-raises it (see batch.run_batch).
    escaped: BaseException | None = None


def run_watch(
    watched: WatchedFolder,
    process: Callable[[BatchItem], Event],
    report: Callable[[Event], None],
    *,
    settle: float = SETTLE_SECONDS,
    stop: threading.Event | None = None,
    start_fields: Event | None = None,
) -> BatchSummary:
    """Watch until ``stop`` is set, Ctrl-C, SIGTERM or a batch-fatal error; report the summary and return it."""
    stop = stop or threading.Event()
    state = _State()
    work: queue.Queue[tuple[BatchItem, Signature] | None] = queue.Queue()
    existing = watched.existing()
    report({"event": "start", "total": len(existing), "watch": str(watched.folder.resolve()), **(start_fields or {})})
    now = time.monotonic()
    for path in existing:
        output = watched.output_for(path)
        if output.exists():
            state.summary.skipped += 1
            state.seen += 1
            state.processed[path] = signature(path) or (0, 0, 0)
            report({"event": "skipped", "input": str(path), "output": str(output)})
        else:
            state.pending[path] = _Pending(now - _quiet_for(path, settle), signature(path))

    worker = threading.Thread(
        target=_worker, args=(work, process, report, state, stop), name="pixcut-watch", daemon=True
    )
    worker.start()
    with sigterm_stops(stop, state.summary):
        try:
            _settle_and_queue(watched, state, work, settle)
            rescanned = False
            for changes in watchfiles.watch(
                watched.folder,
                stop_event=stop,
                recursive=watched.recursive,
                yield_on_timeout=True,
                rust_timeout=TICK_MS,
                debounce=TICK_MS,
                step=50,
                watch_filter=None,
            ):
                now = time.monotonic()
                if not rescanned:  # the watcher runs now: pick up what arrived between the scan and its start
                    rescanned = True
                    for path in watched.existing():
                        if path not in state.processed and path not in state.pending:
                            state.pending[path] = _Pending(now - _quiet_for(path, settle), signature(path))
                for change, raw in changes:
                    path = Path(raw).resolve()
                    if not watched.is_input(path):
                        continue
                    if change == watchfiles.Change.deleted:
                        state.pending.pop(path, None)
                    else:
                        state.pending[path] = _Pending(now, signature(path))
                _settle_and_queue(watched, state, work, settle)
        except KeyboardInterrupt:
            stop.set()
    stop.set()
    work.put(None)
    worker.join()  # the item in flight finishes; its output is written atomically
    if state.escaped is not None:
        raise state.escaped
    summary = state.summary
    summary.interrupted = summary.stopped_by is None
    summary.not_attempted = state.seen - summary.done - summary.failed - summary.skipped
    report({**summary.to_json(), "watch": str(watched.folder.resolve())})
    return summary


def _quiet_for(path: Path, settle: float) -> float:
    """How long a file found at start has been unchanged (capped at ``settle``): one still being
    copied when the watch starts waits for its quiet period like any other."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return 0.0
    return max(0.0, min(settle, age))


def _settle_and_queue(
    watched: WatchedFolder, state: _State, work: queue.Queue[tuple[BatchItem, Signature] | None], settle: float
) -> None:
    """Queue each pending file that has settled; a file still changing waits for its next quiet period."""
    now = time.monotonic()
    for path, pending in list(state.pending.items()):
        if now - pending.changed_at < settle:
            continue
        current = signature(path)
        if current is None:
            del state.pending[path]  # gone (renamed away, deleted)
            continue
        if current != pending.signature:
            state.pending[path] = _Pending(now, current)  # still being written
            continue
        del state.pending[path]
        with state.lock:
            if state.processed.get(path) == current:
                continue  # this very version was done already (an event without a content change)
            state.processed[path] = current
            state.seen += 1
        work.put((BatchItem(path, watched.output_for(path)), current))


def _worker(
    work: queue.Queue[tuple[BatchItem, Signature] | None],
    process: Callable[[BatchItem], Event],
    report: Callable[[Event], None],
    state: _State,
    stop: threading.Event,
) -> None:
    def process_into_folder(item: BatchItem) -> Event:
        item.output.parent.mkdir(parents=True, exist_ok=True)  # a new sub-folder of a recursive watch
        return process(item)

    while True:
        entry = work.get()
        if entry is None or stop.is_set():
            return
        item, _ = entry
        try:
            process_item(item, process_into_folder, report, state.summary, state.lock, stop, lambda: state.seen)
        except BaseException as exc:
            state.escaped = exc
            stop.set()
            return

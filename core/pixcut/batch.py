"""Batch removal: output planning, the provider's ramp-up, resumable and interruptible runs.

The provider asks batch clients to start with at most 5 threads and add one every
5 minutes. Here worker *k* simply waits ``(k - initial + 1) x interval`` before it
takes its first job; each worker keeps its own 429 back-off (the cloud client's
state is per thread). Outputs are written atomically, so an interrupted batch
leaves only complete files and ``skip_existing`` resumes it; the temporaries a killed
run leaves (``.NAME.pixcut-XXXX.part``) are removed when a rerun plans the same outputs.
SIGTERM is handled like Ctrl-C: items in flight finish, the summary is reported, and
the CLI exits 143.

An error that every remaining input would hit as well (no or wrong credentials, a
missing model) stops the batch after the items in flight: a thousand identical
401s would only hammer the service and bury the one message that matters.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixcut.atomic import remove_stale_temporaries
from pixcut.errors import AuthenticationError, ModelError, OptionsError, PixcutError, describe_exception
from pixcut.imageio import INPUT_SUFFIXES
from pixcut.result import RemovalResult

IMAGE_SUFFIXES = INPUT_SUFFIXES  # what imageio reads: the API's five types plus WebP, AVIF, HEIC/HEIF
RAMP_INITIAL = 5
RAMP_INTERVAL = 300.0
MAX_JOBS = 100  # above this the provider asks to be contacted first
# Offline: two removals in flight keep two cores busy, one image's inference overlapping the other's
# decoding, refinement and PNG encoding (the engine's ONNX session serves both without spinning
# threads). Measured 2 cores, 1 MP JPEGs: see benchmarks/engine.py.
LOCAL_JOBS = 2
# Errors that are about the setup, not the item: the batch stops at the first one.
BATCH_FATAL_ERRORS: tuple[type[PixcutError], ...] = (AuthenticationError, ModelError)


@dataclass(frozen=True)
class BatchItem:
    input: Path
    output: Path


def expand_inputs(inputs: Iterable[str], recursive: bool = False) -> list[tuple[Path, Path | None]]:
    """Files as given; folders expanded to their image files. Returns (file, folder it came from)."""
    found: list[tuple[Path, Path | None]] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for child in sorted(path.glob(pattern)):
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES:
                    found.append((child, path))
        else:
            found.append((path, None))
    return found


def plan_outputs(
    inputs: Iterable[str],
    *,
    output: str | None,
    out_dir: str | None,
    extension: str,
    recursive: bool = False,
    suffix: str = "-cutout",
) -> list[BatchItem]:
    """Decide every output path up front, so collisions and input overwrites fail before any work."""
    expanded = expand_inputs(inputs, recursive)
    if not expanded:
        raise OptionsError("no input images found")
    if output and (len(expanded) > 1 or out_dir):
        raise OptionsError("-o/--output takes a single input; use --out-dir for several")
    if output:
        check_output_path(Path(output), extension)
    items: list[BatchItem] = []
    for path, root in expanded:
        if output:
            target = Path(output)
        else:
            folder = Path(out_dir) if out_dir else path.parent
            relative = path.parent.relative_to(root) if root is not None else Path()
            stem = path.stem if out_dir else f"{path.stem}{suffix}"
            target = folder / relative / f"{stem}{extension}"
        items.append(BatchItem(path, target))
    refuse_collisions([(item.input, item.output, _key(item.output)) for item in items], {_key(p) for p, _ in expanded})
    return items


def refuse_collisions(planned: Iterable[tuple[object, object, str]], input_keys: set[str]) -> None:
    """Refuse, before any work, an output that is an input or that two inputs would share.

    ``planned`` holds (input, output, the output's identity key); ``pixcut.ray`` plans URIs with it too.
    """
    seen: dict[str, object] = {}
    for source, target, key in planned:
        if key in input_keys:
            raise OptionsError(f"output {target} is one of the inputs; pixcut never overwrites an input")
        if key in seen:
            raise OptionsError(f"{seen[key]} and {source} would both be written to {target}")
        seen[key] = source


# Output name endings and the format they promise (.jpeg is .jpg).
_SAME_SUFFIX = {".jpeg": ".jpg", ".tif": ".tiff"}


def check_output_path(output: Path, extension: str) -> None:
    """``-o`` must name a file pixcut can write, whose ending does not promise another format.

    ``--format jpeg -o x.png`` is refused (exit 2) rather than renamed: a silent rename would
    leave the caller (a script, a host plug-in) looking for a file that is not there.
    """
    if output.is_dir():
        raise OptionsError(f"-o {output}: is a folder; give a file name, or use --out-dir {output}")
    blocking = next((parent for parent in output.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise OptionsError(f"-o {output}: {blocking} is a file, not a folder")
    suffix = output.suffix.lower()
    if suffix in IMAGE_SUFFIXES | {".webp"} and _SAME_SUFFIX.get(suffix, suffix) != extension:
        raise OptionsError(
            f"-o {output}: the result is {extension[1:].upper()} but the name ends in {output.suffix}; "
            f"name it {output.stem}{extension}, or choose the format with --format"
        )


def _key(path: Path) -> str:
    return os.path.normcase(str(path.resolve()))


Event = dict[str, Any]


@dataclass
class BatchSummary:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    credits_charged: float = 0.0
    interrupted: bool = False
    stopped_by: str | None = None  # the message of a batch-fatal error
    not_attempted: int = 0
    options_failed: int = 0  # items refused for their options (e.g. the result-size limit): a usage error
    terminated: bool = False  # stopped by SIGTERM (the CLI exits 143 instead of 130)

    def to_json(self) -> Event:
        return {
            "event": "summary",
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "credits_charged": self.credits_charged,
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "not_attempted": self.not_attempted,
        }

    def count(self, event: Event) -> None:
        """Tally a 'result' or 'error' event (credits from the result)."""
        if event.get("event") == "error":
            self.failed += 1
        else:
            self.done += 1
            self.credits_charged += float(event.get("credits_charged") or 0.0)


def error_event(input: str | None, exc: BaseException) -> Event:
    """The 'error' event for an item's exception: a PixcutError keeps its type, status and code."""
    return {"event": "error", "input": input, "error": describe_exception(exc)}


def result_event(input: str, output: str, result: RemovalResult) -> Event:
    """The 'result' event: where it went, its format and the result headers (sizes, boxes, credits).

    ``converted_for_upload`` (the input's format) appears when the cloud was sent a PNG instead.
    """
    event = {"event": "result", "input": input, "output": output, "format": result.format, **result.info.to_json()}
    if result.converted_for_upload:
        event["converted_for_upload"] = result.converted_for_upload
    return event


def progress_event(summary: BatchSummary, total: int, input: str | None, stage: str) -> Event:
    """The 'progress' event: counts so far (also what ``pixcut.ray`` sends from its manifest rows)."""
    return {
        "event": "progress",
        "done": summary.done,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "total": total,
        "input": input,
        "stage": stage,
    }


def process_item(
    item: BatchItem,
    process: Callable[[BatchItem], Event],
    report: Callable[[Event], None],
    summary: BatchSummary,
    lock: threading.Lock,
    stop: threading.Event,
    total: Callable[[], int],
) -> None:
    """One item's turn in any runner (the plain batch, ``--watch``): 'processing' progress, the
    removal, its 'result' or 'error' event, the tally, 'finished' progress, all reported under
    ``lock`` so each item's events stay in order. One bad item never ends the run; a
    ``BATCH_FATAL_ERRORS`` one sets ``stop``."""
    with lock:
        report(progress_event(summary, total(), str(item.input), "processing"))
    fatal = None
    refused = False
    try:
        event = process(item)
    except Exception as exc:
        event = error_event(str(item.input), exc)
        refused = isinstance(exc, OptionsError)
        if isinstance(exc, BATCH_FATAL_ERRORS):
            fatal = exc.message
    with lock:
        summary.options_failed += refused
        summary.count(event)
        report(event)
        report(progress_event(summary, total(), str(item.input), "finished"))
        if fatal is not None and summary.stopped_by is None:
            summary.stopped_by = fatal
            stop.set()


def run_batch(
    items: list[BatchItem],
    process: Callable[[BatchItem], Event],
    report: Callable[[Event], None],
    *,
    jobs: int = 1,
    ramp_initial: int = RAMP_INITIAL,
    ramp_interval: float = RAMP_INTERVAL,
    skip_existing: bool = False,
    stop: threading.Event | None = None,
    start_fields: Event | None = None,
) -> BatchSummary:
    """Run ``process`` over ``items`` with up to ``jobs`` workers, ramping up as the provider asks.

    ``process`` returns the 'result' event for an item (it writes the output
    itself). Errors become 'error' events and never stop the other items, except
    the ``BATCH_FATAL_ERRORS``. Setting ``stop`` (or Ctrl-C in the calling thread)
    lets running items finish and starts no new ones.
    """
    stop = stop or threading.Event()
    summary = BatchSummary()
    lock = threading.Lock()
    work: queue.Queue[BatchItem] = queue.Queue()
    total = len(items)
    report({"event": "start", "total": total, **(start_fields or {})})
    for item in items:
        remove_stale_temporaries(item.output)  # a killed run's leftovers of what this run writes
        if skip_existing and item.output.exists():
            summary.skipped += 1
            report({"event": "skipped", "input": str(item.input), "output": str(item.output)})
        else:
            work.put(item)

    # Wakes late-starting workers early when the queue is drained or the batch is stopped.
    wake = threading.Event()
    # Set after every item, so the calling thread sees the last one finish at once: it polled every
    # 50 ms before, which every one-image `pixcut remove` (each GIMP or Krita run) waited out.
    finished = threading.Event()
    # What escaped process_item (a bug, or a reporter that raised): the batch stops and the
    # calling thread re-raises it, instead of waiting for items no worker will take.
    escaped: list[BaseException] = []

    def worker(index: int) -> None:
        delay = max(0, index - ramp_initial + 1) * ramp_interval
        if delay:
            wake.wait(delay)
        while not stop.is_set():
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            try:
                process_item(item, process, report, summary, lock, stop, lambda: total)
            except BaseException as exc:
                escaped.append(exc)
                stop.set()
                return
            finally:
                work.task_done()
                finished.set()

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"pixcut-worker-{i}", daemon=True)
        for i in range(max(1, min(jobs, work.qsize() or 1)))
    ]
    for thread in threads:
        thread.start()
    with sigterm_stops(stop, summary):
        try:
            while work.unfinished_tasks and not stop.is_set():
                # A timeout, so a SIGTERM handler's stop is seen; Ctrl-C interrupts the wait itself.
                finished.wait(0.25)
                finished.clear()
        except KeyboardInterrupt:
            stop.set()
    wake.set()
    for thread in threads:
        thread.join()  # items in flight finish; their outputs are written atomically
    if escaped:
        raise escaped[0]
    summary.interrupted = stop.is_set() and summary.stopped_by is None
    summary.not_attempted = total - summary.done - summary.failed - summary.skipped
    report(summary.to_json())
    return summary


@contextmanager
def sigterm_stops(stop: threading.Event, summary: BatchSummary) -> Iterator[None]:
    """While the batch runs, SIGTERM acts like Ctrl-C: no new items, in-flight ones finish.

    Only the main thread may install a signal handler; elsewhere (a batch run from a worker
    thread of an embedding program) the program's own handling stays as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigterm(signum: int, frame: object) -> None:
        summary.terminated = True
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""``pixcut.ray.remove_backgrounds``: a batch as a Ray Data job, with the plain batch's events and summary.

The driver plans every output (``pixcut.ray.planning``), drops the inputs the
manifest already records as done with the same options, and streams the rest
through ``Dataset.map_batches`` with an actor pool of ``RemoveBatch`` (one backend
per actor; GPU actors when the cluster has GPUs and the backend is the offline
engine). Rows come back as the workers finish them; each becomes the same
``result``/``error`` event and ``progress`` count the plain ``pixcut remove`` prints,
and the same ``BatchSummary`` ends the run. An error every input would hit
(credentials, model) stops the job just as it stops the plain batch.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pixcut.backends import BackendSettings
from pixcut.batch import (
    MAX_JOBS,
    RAMP_INITIAL,
    RAMP_INTERVAL,
    BatchSummary,
    Event,
    progress_event,
    sigterm_stops,
)
from pixcut.errors import OptionsError
from pixcut.options import RemovalOptions
from pixcut.ray.manifest import Row, compact, done_inputs, manifest_place, options_key, read_rows
from pixcut.ray.planning import RayItem, plan_items
from pixcut.ray.session import cluster_resources, ray_session, require_ray
from pixcut.ray.worker import ROW_COLUMN, RemoveBatch, WorkerConfig
from pixcut.result import EXTENSIONS

if TYPE_CHECKING:
    from ray.data import Dataset

#: Manifest bookkeeping that is not part of the ``--json`` event contract.
BOOKKEEPING = ("options_key", "worker_pid", "finished_at", "seconds", "fatal", "refused", "bytes")
DEFAULT_BATCH_SIZE = 8
CLOUD_THREADS_PER_ACTOR = 8
CLOUD_CPUS_PER_ACTOR = 0.25  # cloud actors wait on the network; finishing a result is light


@dataclass
class RayRun:
    """What a run did: the plain batch's summary, where the manifest is, and the cloud limiter's counts."""

    summary: BatchSummary
    manifest: str
    limiter: dict[str, int] | None = None
    actors: int = 0
    items: list[RayItem] = field(default_factory=list)


def remove_backgrounds(
    dataset_or_paths: Dataset | str | Iterable[str],
    options: RemovalOptions | None = None,
    backend: str = "local",
    *,
    out: str,
    settings: BackendSettings | None = None,
    delta: bool = False,
    recursive: bool = False,
    manifest: str | None = None,
    report: Callable[[Event], None] | None = None,
    start_fields: Event | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    concurrency: int | None = None,
    cpus_per_actor: float = 1.0,
    num_gpus: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    jobs: int | None = None,
    ramp_initial: int = RAMP_INITIAL,
    ramp_interval: float = RAMP_INTERVAL,
    restart_workers: bool = True,
    stop: threading.Event | None = None,
    **option_values: Any,
) -> RayRun:
    """Remove the background of every image in ``dataset_or_paths`` on Ray, writing results below ``out``.

    ``dataset_or_paths``: files and folders (local paths or URIs such as ``s3://bucket/photos``),
    or a ``ray.data.Dataset`` with a ``path`` column and optionally ``bytes`` (what
    ``ray.data.read_binary_files(..., include_paths=True)`` gives). ``out`` is a folder, local or
    a URI; the manifest goes to ``OUT/_pixcut_manifest`` unless ``manifest`` says otherwise.

    Ray: the running one if ``ray.init`` was called, else ``address``, else a local Ray with
    ``num_cpus`` started and stopped here. Offline engine: ``concurrency`` actors (default: one per
    ``cpus_per_actor`` CPUs of the cluster, or one per GPU), each with its own ONNX session. Cloud:
    at most ``jobs`` (1..100, default 5) requests in flight over the whole cluster, ramped up from
    ``ramp_initial`` by one every ``ramp_interval`` seconds. A killed actor is restarted and its batch
    retried (Ray Data's default); ``restart_workers=False`` fails the job instead, and a rerun does the rest.
    Setting ``stop`` (from another thread) stops the job as Ctrl-C does: no new batch starts, what
    finished is in the manifest (the CLI sets it when the reader of its events goes away).
    """
    opts = options or RemovalOptions()
    if option_values:
        opts = opts.replace(**option_values)
    settings = settings or BackendSettings()
    emit = report or (lambda event: None)
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise OptionsError(f"jobs must be 1..{MAX_JOBS} (the provider asks to be contacted before going above)")
    if batch_size < 1:
        raise OptionsError("batch_size must be at least 1")
    require_ray()
    with ray_session(address, num_cpus):
        return _run(
            dataset_or_paths,
            opts,
            backend,
            out=out,
            settings=settings,
            delta=delta,
            recursive=recursive,
            manifest=manifest,
            emit=emit,
            start_fields=start_fields or {"backend": backend},
            concurrency=concurrency,
            cpus_per_actor=cpus_per_actor,
            num_gpus=num_gpus,
            batch_size=batch_size,
            jobs=jobs or 5,
            ramp_initial=ramp_initial,
            ramp_interval=ramp_interval,
            restart_workers=restart_workers,
            stop=stop if stop is not None else threading.Event(),
        )


def _run(
    source: Dataset | str | Iterable[str],
    options: RemovalOptions,
    backend: str,
    *,
    out: str,
    settings: BackendSettings,
    delta: bool,
    recursive: bool,
    manifest: str | None,
    emit: Callable[[Event], None],
    start_fields: Event,
    concurrency: int | None,
    cpus_per_actor: float,
    num_gpus: float | None,
    batch_size: int,
    jobs: int,
    ramp_initial: int,
    ramp_interval: float,
    restart_workers: bool,
    stop: threading.Event,
) -> RayRun:
    import ray
    import ray.data

    extension = EXTENSIONS[options.resolved_format]
    folder = manifest_place(out, manifest)
    cloud = backend != "local"
    gpus = num_gpus if num_gpus is not None else (1.0 if not cloud and cluster_resources().get("GPU", 0) else 0.0)
    if not cloud and settings.threads is None:  # one engine thread per CPU the actor holds: no oversubscription
        settings = replace(settings, threads=max(1, math.ceil(cpus_per_actor)))
    if backend == "pixian" and settings.credentials is None:
        # Looked up here, where the user ran the command: the other nodes have no config file of theirs.
        # They travel to the actors in memory (constructor arguments), never in a row or a message.
        from pixcut.backends.pixian import DEFAULT_ENDPOINT
        from pixcut.credentials import find_credentials

        settings = replace(settings, credentials=find_credentials(settings.endpoint or DEFAULT_ENDPOINT))
    key = options_key(options, backend, {"model": settings.model, "delta": delta, "decon": settings.decontaminate})
    done = done_inputs(read_rows(folder), key)

    summary = BatchSummary()
    if cloud:
        threads = min(CLOUD_THREADS_PER_ACTOR, jobs)
        actors = concurrency or math.ceil(jobs / threads)
        cpus = CLOUD_CPUS_PER_ACTOR
    else:
        threads = 1
        capacity = cluster_resources().get("GPU", 0) / gpus if gpus else 0
        cpus_total = cluster_resources().get("CPU", 1)
        if isinstance(source, ray.data.Dataset):  # its read tasks need a CPU the actors must not all hold
            cpus_total -= 1
        capacity = capacity or cpus_total / cpus_per_actor
        actors = concurrency or max(1, int(capacity))
        cpus = cpus_per_actor
    dataset: Dataset | None
    if isinstance(source, ray.data.Dataset):
        dataset, total, items = _from_dataset(source, out, extension, done)
    else:
        items = plan_items([source] if isinstance(source, str) else list(source), out, extension, recursive)
        total = len(items)
        todo = [item for item in items if item.input not in done]
        dataset = (
            ray.data.from_items(
                [{"input": item.input, "output": item.output} for item in todo],
                # about one block per batch, and never fewer blocks than actors while there is work for them
                override_num_blocks=max(1, min(len(todo), actors), math.ceil(len(todo) / batch_size)),
            )
            if todo
            else None  # all done already: no actor needs to start
        )
    emit({"event": "start", "total": total, **start_fields})
    for item in items:
        if item.input in done:
            summary.skipped += 1
            emit({"event": "skipped", "input": item.input, "output": done[item.input].get("output", item.output)})

    limiter: Any = None  # a Ray actor handle: its methods are resolved at run time, so Ray types it loosely
    if cloud and dataset is not None:
        from pixcut.ray.limiter import CloudLimiter

        limiter = ray.remote(CloudLimiter).remote(jobs, ramp_initial, ramp_interval)
    config = WorkerConfig(
        backend=backend,
        settings=settings,
        options=options,
        options_key=key,
        manifest=folder.location,
        delta=delta,
        threads=threads,
        limiter=limiter,
    )
    batches: Iterator[dict[str, Any]] = iter(())
    with warnings.catch_warnings():  # max_restarts is still the documented switch, though flagged for Ray 2.64
        warnings.simplefilter("ignore", DeprecationWarning)
        mapped = (
            None
            if dataset is None
            else dataset.map_batches(
                RemoveBatch,
                fn_constructor_args=(config,),
                batch_size=batch_size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors)
                if cloud
                else ray.data.ActorPoolStrategy(size=actors),
                num_cpus=cpus,
                num_gpus=gpus or None,
                max_restarts=-1 if restart_workers else 0,  # -1 is Ray Data's own default for actor pools
            )
        )
    reported: set[str] = set()

    def tally(row: Row) -> None:
        reported.add(str(row["input"]))
        summary.options_failed += bool(row.get("refused"))
        summary.count(row)
        emit({k: v for k, v in row.items() if k not in BOOKKEEPING})
        emit(progress_event(summary, total, row["input"], "finished"))
        if row.get("fatal") and summary.stopped_by is None:
            summary.stopped_by = str(row["error"]["message"])

    started = time.time()
    # ``stop`` is set by SIGTERM or by the caller: the job stops like after Ctrl-C (the plain batch's rule).
    if mapped is not None:
        batches = iter(mapped.iter_batches(batch_size=None, batch_format="numpy"))
    try:
        with sigterm_stops(stop, summary):
            for batch in batches:
                for text in batch[ROW_COLUMN]:
                    row = json.loads(str(text))
                    if row.get("event") == "skipped":
                        summary.skipped += 1
                        emit({k: v for k, v in row.items() if k not in BOOKKEEPING})
                    else:
                        tally(row)
                if summary.stopped_by is not None or stop.is_set():
                    break
    except KeyboardInterrupt:
        stop.set()
    except ray.exceptions.RayError as exc:  # a worker lost beyond Ray's retries: the manifest keeps what finished
        summary.stopped_by = f"ray: {_first_line(exc)}"
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # stops Ray Data's executor: no new batches start; those in flight finish or die
    summary.interrupted = stop.is_set() and summary.stopped_by is None
    # Rows a worker wrote to the manifest but whose batch never reached this driver (the worker died
    # before handing it over, or the job stopped): they are done, so they are reported and counted.
    for row in read_rows(folder):
        if row.get("options_key") == key and float(row.get("finished_at") or 0) >= started:
            if row["input"] not in reported and row["input"] not in done:
                tally(row)
    summary.not_attempted = total - summary.done - summary.failed - summary.skipped
    stats: dict[str, int] | None = ray.get(limiter.stats.remote()) if limiter is not None else None
    if not summary.interrupted:
        compact(folder)
    emit(summary.to_json())
    return RayRun(summary, folder.location, stats, actors, items)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _from_dataset(
    dataset: Dataset, out: str, extension: str, done: dict[str, Any]
) -> tuple[Dataset, int, list[RayItem]]:
    """Name the outputs of a dataset with a ``path`` column (``OUT/STEM.EXT``) and drop finished rows."""
    if "path" not in (dataset.columns() or []):
        raise OptionsError("the dataset needs a 'path' column (ray.data.read_binary_files(..., include_paths=True))")
    base = out.rstrip("/\\")
    separator = "/" if "://" in out else os.sep
    finished = frozenset(done)

    def name(batch: dict[str, Any]) -> dict[str, Any]:
        paths = [str(p) for p in batch["path"]]
        named: dict[str, Any] = {
            "input": paths,
            "output": [base + separator + os.path.splitext(p.rsplit("/", 1)[-1])[0] + extension for p in paths],
            "skip": [p in finished for p in paths],  # the worker answers these with a 'skipped' row
        }
        if "bytes" in batch:
            named["bytes"] = batch["bytes"]
        return named

    return dataset.map_batches(name, batch_format="numpy"), dataset.count(), []

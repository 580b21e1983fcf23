"""The Ray Data map step: one backend per actor, every input through ``pixcut.api.remove_background``.

Ray builds one ``RemoveBatch`` per actor of the pool, so the offline engine's ONNX
session (or the cloud client's HTTP sessions) is created once per actor and reused
for every batch it gets. Each input is read from its filesystem, removed by the one
hook-firing function, written atomically to its output, and becomes a manifest row;
the batch's rows are written as a manifest part after its outputs. A bad image is
an ``error`` row; only a dead process loses work, and then only the batch in hand.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pixcut.allocator import tune_allocator
from pixcut.api import remove_background
from pixcut.backends import Backend, BackendSettings, ImageInput, create_backend
from pixcut.batch import BATCH_FATAL_ERRORS, error_event, result_event
from pixcut.errors import OptionsError
from pixcut.options import RemovalOptions
from pixcut.ray.fs import read_bytes, resolve, write_bytes
from pixcut.ray.limiter import LimitedBackend
from pixcut.ray.manifest import Row, encode, write_part

ROW_COLUMN = "row"  # the map step's only output column: the manifest row as JSON text


@dataclass(frozen=True)
class WorkerConfig:
    """What every actor needs; sent once to each actor when the pool starts."""

    backend: str
    settings: BackendSettings
    options: RemovalOptions
    options_key: str
    manifest: str  # location of the manifest folder
    delta: bool = False
    threads: int = 1  # inputs handled at once inside one actor (cloud: requests in flight per actor)
    limiter: Any = None  # a CloudLimiter actor handle, or None


class RemoveBatch:
    """The callable class given to ``Dataset.map_batches`` (constructed once per actor)."""

    def __init__(self, config: WorkerConfig) -> None:
        tune_allocator()  # the actor's process exists to run this map step
        self.config = config
        backend: Backend = create_backend(config.backend, config.settings)
        if config.limiter is not None:
            import ray

            backend = LimitedBackend(backend, config.limiter, ray.get)
        self.backend = backend
        self.pool = ThreadPoolExecutor(max(1, config.threads), thread_name_prefix="pixcut-ray")

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        inputs = [str(v) for v in batch["input"]]
        outputs = [str(v) for v in batch["output"]]
        datas: list[bytes | None] = [bytes(v) for v in batch["bytes"]] if "bytes" in batch else [None] * len(inputs)
        skip = [bool(v) for v in batch["skip"]] if "skip" in batch else [False] * len(inputs)
        work = [i for i in range(len(inputs)) if not skip[i]]
        rows = list(
            self.pool.map(self.one, [inputs[i] for i in work], [outputs[i] for i in work], [datas[i] for i in work])
        )
        write_part(resolve(self.config.manifest), rows)  # after the outputs: a row means a complete file
        skipped = [
            {"event": "skipped", "input": inputs[i], "output": outputs[i]} for i in range(len(inputs)) if skip[i]
        ]
        return {ROW_COLUMN: [encode([row]).decode().rstrip("\n") for row in rows + skipped]}

    def one(self, input_location: str, output_location: str, data: bytes | None = None) -> Row:
        """Remove, write, and describe one input; never raises for the item's own failure.

        ``data`` is the file's bytes when the dataset already read them (``read_binary_files``).
        """
        began = time.perf_counter()
        try:
            if data is None:
                data = read_bytes(resolve(input_location))
            image = ImageInput(data=data, filename=input_location.replace("\\", "/").rsplit("/", 1)[-1])
            result = remove_background(image, self.config.options, self.backend, delta=self.config.delta)
            write_bytes(resolve(output_location), result.data)
            row: Row = {**result_event(input_location, output_location, result), "bytes": len(result.data)}
        except Exception as exc:  # one bad item must not end the batch (same rule as pixcut.batch)
            row = {
                **error_event(input_location, exc),
                "fatal": isinstance(exc, BATCH_FATAL_ERRORS),  # the driver stops the job (credentials, model)
                "refused": isinstance(exc, OptionsError),  # a usage error: the CLI exits 2, as the plain batch
            }
        # bookkeeping after the event's own fields, so the row reads like the --json event
        row.update(
            options_key=self.config.options_key,
            worker_pid=os.getpid(),
            finished_at=time.time(),
            seconds=round(time.perf_counter() - began, 4),  # read + remove + write: benchmarks/ray_batch.py
        )
        return row

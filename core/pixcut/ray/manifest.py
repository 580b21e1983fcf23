"""The manifest of a Ray run: one JSON line per finished input, so a rerun skips what is done.

Each row is the ``pixcut remove --json`` event for that input (``result`` with
output, format, sizes, foreground boxes and credits, or ``error`` with the typed
error) plus bookkeeping: ``options_key`` (what produced it), ``fatal`` and
``worker_pid``.

Why part files and not one file: object stores cannot append, and a worker may
die at any moment. Every map batch writes its rows as one new part file (written
atomically, see ``pixcut.ray.fs.write_bytes``) *after* its outputs are written, so
a row always points at a complete output, and a killed worker loses only the batch
it was doing, which the rerun repeats. At the end of a run the driver folds the
parts into one (rows first, then the parts are deleted: a crash in between leaves
duplicates, which reading tolerates). JSON Lines because rows hold nested boxes and
error objects and people read manifests with ``jq``; Ray Data reads them too
(``ray.data.read_json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pixcut.options import RemovalOptions
from pixcut.ray.fs import Place, delete, kind, list_files, read_bytes, resolve, write_bytes

MANIFEST_DIR = "_pixcut_manifest"  # leading underscore: ignored by Ray Data / Arrow dataset readers
PART_PREFIX = "part-"
MAX_PART_BYTES = 1024 * 1024 * 1024

Row = dict[str, Any]


def options_key(options: RemovalOptions, backend: str, extra: Mapping[str, object]) -> str:
    """A short fingerprint of everything that decides an output's bytes; a changed option redoes the input."""
    payload = {"options": options.as_dict(), "backend": backend, **extra}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def manifest_place(out: str, manifest: str | None = None) -> Place:
    """Where the manifest lives: ``manifest`` if given, else ``OUT/_pixcut_manifest``."""
    return resolve(manifest) if manifest else resolve(out).child(MANIFEST_DIR)


def encode(rows: Iterable[Row]) -> bytes:
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode()


def write_part(folder: Place, rows: list[Row]) -> None:
    """One new part file holding ``rows``; never overwrites another part."""
    if rows:
        name = f"{PART_PREFIX}{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        write_bytes(folder.child(name), encode(rows))


def _parts(folder: Place) -> list[Place]:
    if kind(folder) != "dir":
        return []
    return [p for p in list_files(folder, recursive=False) if p.path.rsplit("/", 1)[-1].startswith(PART_PREFIX)]


def read_rows(folder: Place) -> list[Row]:
    """Every row of every part, oldest part first; a torn or foreign line is skipped, not fatal."""
    rows: list[Row] = []
    for part in _parts(folder):
        for line in read_bytes(part, MAX_PART_BYTES).decode("utf-8", "replace").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and isinstance(row.get("input"), str):
                rows.append(row)
    return rows


def done_inputs(rows: Iterable[Row], key: str) -> dict[str, Row]:
    """Inputs finished with these options (input -> its result row). Error rows are retried."""
    done: dict[str, Row] = {}
    for row in rows:
        if row.get("event") == "result" and row.get("options_key") == key:
            done[row["input"]] = row
    return done


def compact(folder: Place) -> int:
    """Fold every part into one: per input its result rows (all option sets), else its latest error row.

    Returns the number of rows kept. Safe to interrupt at any point (see the module docstring).
    """
    parts = _parts(folder)
    if len(parts) <= 1:
        return sum(1 for _ in read_rows(folder))
    kept: dict[tuple[str, str, str], Row] = {}
    for row in read_rows(folder):
        if row.get("event") == "result":
            kept[(row["input"], "result", str(row.get("options_key")))] = row
        else:
            kept[(row["input"], "error", "")] = row
    succeeded = {name for name, event, _ in kept if event == "result"}
    rows = [row for (name, event, _), row in kept.items() if event == "result" or name not in succeeded]
    write_part(folder, rows)
    for part in parts:
        delete(part)
    return len(rows)

"""Atomic file writes: a reader (or a crash) never sees half an output file.

The temporary file is named ``.NAME.pixcut-XXXXXXXX.part`` beside the output, so an
interrupted run's leftovers are recognisably pixcut's and a rerun can remove exactly
those (:func:`remove_stale_temporaries`). The finished file gets the mode a plain
``open(path, "w")`` would give (``0o666 & ~umask``), or keeps the mode of the file it
replaces; ``mkstemp``'s private 0600 would make outputs unreadable to web servers and
other users. Callers that write secrets pass ``mode=0o600``.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from pixcut.errors import OutputError

TEMP_MARK = ".pixcut-"
TEMP_SUFFIX = ".part"


def current_umask() -> int:
    """The process umask, read without changing it where the platform allows (Linux ``/proc``).

    ``os.umask`` can only be read by setting it, which races with other threads creating files;
    it is the fall-back for platforms without ``/proc``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(target: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return stat.S_IMODE(os.stat(target).st_mode)  # replacing a file keeps its mode
    except OSError:
        return 0o666 & ~current_umask()


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``.

    The temporary file lives in the same folder so the rename stays on one file system (and is
    therefore atomic); it is removed if anything fails. Failures are an ``OutputError`` naming
    ``path`` (never the temporary file).
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder (give a file name, or use --out-dir for a folder)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(target, exc) from None
    final_mode = _final_mode(target, mode)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{TEMP_MARK}", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise _output_error(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), final_mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _output_error(target, exc) from None
        raise
    return target


def _output_error(target: Path, exc: OSError) -> OutputError:
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) or any(p.is_file() for p in target.parents):
        reason = "a file is in the way of its folder"
    elif exc.errno == errno.EISDIR:
        reason = "it is a folder"
    else:
        reason = exc.strerror or type(exc).__name__
    return OutputError(f"cannot write {target}: {reason}")


def temporaries_of(path: str | os.PathLike[str]) -> list[Path]:
    """Leftover temporaries of ``path`` from interrupted writes: ``.NAME.pixcut-XXXXXXXX.part``
    (and ``.NAME.XXXXXXXX.part``, the name earlier pixcut versions used)."""
    target = Path(path)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:pixcut-)?[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}$")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return sorted(target.parent / name for name in names if pattern.match(name))


def remove_stale_temporaries(path: str | os.PathLike[str]) -> int:
    """Delete the leftover temporaries of ``path`` (a rerun is about to write it); returns how many."""
    removed = 0
    for leftover in temporaries_of(path):
        try:
            leftover.unlink()
            removed += 1
        except OSError:
            pass
    return removed

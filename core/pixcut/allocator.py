"""glibc malloc thresholds for processes that remove one image after another.

Why: a removal allocates and frees tens of MB of temporaries (the decoded photo, full-size planes,
the cutout, PNG buffers). glibc's default heuristics hand most of it back to the kernel after each
image: blocks above a threshold that starts at 128 KiB are mmap'ed and unmapped, and the heap's free
top is trimmed once it passes a threshold set from the largest unmapped block (a few MB here). The
next image then faults every page in again. Measured in one process, image after image: 6k page
faults and about 10 ms of a 1 MP removal (210-218 -> 200-207 ms), 16k faults and about 40 ms of a
12 MP one, with the same peak RSS when the thresholds are fixed here.

The values are where glibc's own heuristic is allowed to go (an mmap threshold of at most 32 MiB on
64-bit, a trim threshold twice that), fixed from the start: blocks up to 32 MiB come from the heap,
and the heap keeps up to 64 MiB of free top for the next image. Larger blocks (a 12 MP photo's
planes) are still mapped and unmapped.

Only processes pixcut owns call this: the ``pixcut`` command (``remove``, ``serve``), ``python -m
pixcut.server`` and the Ray actors. A program that imports pixcut owns its allocator; it may call
:func:`tune_allocator` itself. Users who set the thresholds (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or a ``glibc.malloc`` entry of ``GLIBC_TUNABLES``)
keep theirs. Other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: ``mallopt`` parameter numbers from glibc's ``malloc.h``.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's ceiling for its dynamic mmap threshold on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX``).
MMAP_THRESHOLD = 32 << 20
#: Twice the mmap threshold: the ratio glibc's heuristic keeps between the two.
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
#: Environment variables through which a user configures glibc malloc.
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

_tuned = False


def glibc_version() -> str | None:
    """``"glibc 2.36"`` when the process runs on glibc, else None (musl, macOS, Windows)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


def user_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user configured glibc malloc's thresholds through the environment."""
    env = os.environ if environ is None else environ
    return any(name in env for name in USER_SETTINGS) or "glibc.malloc." in env.get("GLIBC_TUNABLES", "")


def tune_allocator() -> bool:
    """Fix glibc's mmap and trim thresholds (see the module docstring); True when they are set.

    Idempotent and cheap (two ``mallopt`` calls, once per process). The settings hold for the rest
    of the process and are inherited by ``fork``.
    """
    global _tuned
    if _tuned:
        return True
    if glibc_version() is None or user_configured():
        return False
    import ctypes  # not at module level: 2 ms, paid anyway once numpy (which imports it) is loaded

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; the trim threshold is set second so a refused mmap threshold
    # leaves glibc's heuristics whole.
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return False
    _tuned = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    return _tuned

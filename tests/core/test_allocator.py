"""glibc malloc thresholds (``pixcut.allocator``), observed in fresh processes through page faults.

Each probe frees a 16 MiB block and allocates another of the same size: with the thresholds fixed the
second block reuses the first one's pages (almost no faults); with glibc's defaults the first block
was unmapped, so the second one faults all its pages in again. The probe runs in a fresh interpreter
per case because the settings hold for the rest of a process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pixcut.allocator import USER_SETTINGS, glibc_version, user_configured

pytestmark = pytest.mark.skipif(glibc_version() is None, reason="glibc's malloc only")

BLOCK = 16 << 20
PAGES = BLOCK // os.sysconf("SC_PAGE_SIZE")

PROBE = r"""
import resource, sys
setup = sys.argv[1]
if setup == "tune":
    from pixcut.allocator import tune_allocator
    print("tuned", tune_allocator())
elif setup in ("cli", "server"):
    from importlib import import_module
    main = import_module("pixcut.cli.main" if setup == "cli" else "pixcut.server.__main__").main
    try:
        main(["--version"] if setup == "cli" else ["--help"])
    except SystemExit:
        pass
elif setup == "ray-worker":
    from pixcut.backends import BackendSettings
    from pixcut.options import RemovalOptions
    from pixcut.ray.worker import RemoveBatch, WorkerConfig
    RemoveBatch(WorkerConfig("local", BackendSettings(), RemovalOptions(), "key", sys.argv[3]))
size = int(sys.argv[2])
block = bytearray(size)  # touches every page
del block
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = bytearray(size)
print("faults", resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def probe(setup: str, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Page faults of the second 16 MiB block after ``setup``, and the probe's whole output."""
    clean = {k: v for k, v in os.environ.items() if k not in USER_SETTINGS and k != "GLIBC_TUNABLES"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, setup, str(BLOCK), *extra],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    faults = int(proc.stdout.split("faults ")[-1])
    return faults, proc.stdout


@pytest.fixture(scope="module")
def default_faults() -> int:
    """The control: glibc's defaults fault the second block in again (else nothing here can be seen)."""
    faults, _ = probe("none")
    if faults < PAGES // 2:
        pytest.skip(f"this kernel backs the heap with huge pages ({faults} faults for {PAGES} pages)")
    return faults


def test_tuned_process_reuses_freed_image_memory(default_faults: int) -> None:
    faults, out = probe("tune")
    assert "tuned True" in out
    assert faults < PAGES // 10 < default_faults


@pytest.mark.parametrize("setup", ["cli", "server"])
def test_pixcut_entry_points_tune_their_process(setup: str, default_faults: int) -> None:
    faults, _ = probe(setup)
    assert faults < PAGES // 10 < default_faults


def test_ray_actor_tunes_its_process(tmp_path, default_faults: int) -> None:
    faults, _ = probe("ray-worker", str(tmp_path))
    assert faults < PAGES // 10 < default_faults


def test_user_settings_win(default_faults: int) -> None:
    # A trim threshold of the user's own turns glibc's mmap heuristic off: every 16 MiB block is mapped
    # afresh, which pixcut must not undo.
    faults, out = probe("tune", env={"MALLOC_TRIM_THRESHOLD_": str(1 << 30)})
    assert "tuned False" in out
    assert faults > PAGES // 2


def test_user_configured_reads_the_environment() -> None:
    assert not user_configured({})
    assert user_configured({"MALLOC_MMAP_THRESHOLD_": "65536"})
    assert user_configured({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"})
    assert not user_configured({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"})

"""Fixtures for the GIMP 3 end-to-end tests: the chroot, the bridge to the host pixcut, a warm profile.

One session = one GIMP profile with the plug-in installed by ``pixcut.hosts.gimp.install`` (so the
real ``pixcut-location.json`` path is exercised) and warmed by a first GIMP start; each test module
then batches its cases into as few ``gimp-console`` runs as possible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chroot_bridge as cb

REPO = cb.REPO
BATCH = Path(__file__).resolve().parent / "gimp_batch.py"
PROCEDURES = ["plug-in-pixcut-remove-background", "plug-in-pixcut-remove-background-repeat"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class GimpSession:
    """A ready GIMP: the bridge, the profile (plug-in installed) and the host pixcut it runs."""

    bridge: cb.Bridge
    work: Path
    profile: Path
    pixcut: Path

    def run(self, name: str, cases: list[dict], env: dict[str, str] | None = None, timeout: float = 240) -> dict:
        """Run ``cases`` in one ``gimp-console`` start; return the batch report (fails with GIMP's output)."""
        folder = self.work / name
        folder.mkdir(parents=True, exist_ok=True)
        job = folder / "job.json"
        report = folder / "report.json"
        job.write_text(json.dumps({"report": str(report), "procedures": PROCEDURES, "cases": cases}))
        variables = {
            "HOME": str(self.work / "home"),
            "GIMP3_DIRECTORY": str(self.profile),
            "PIXCUT_GIMP_JOB": str(job),
            **(env or {}),
        }
        command = cb.clean_env(**variables) + [
            "gimp-console-3.0",
            "-i",
            "-n",
            "--batch-interpreter",
            "python-fu-eval",
            "-b",
            f"exec(open({str(BATCH)!r}).read())",
            "--quit",
        ]
        started = time.monotonic()
        result = cb.run(self.bridge, command, timeout=timeout)
        elapsed = time.monotonic() - started
        output = f"exit {result.returncode} after {elapsed:.1f} s\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        (folder / "gimp-output.txt").write_text(output)
        assert result.returncode == 0 and report.is_file(), f"gimp-console failed: {output}"
        return json.loads(report.read_text())


def _unavailable(reason: str) -> None:
    """Skip where a chroot is impossible; in CI that is a failure, never a skip."""
    message = f"real GIMP 3 end-to-end tests impossible here: {reason}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def gimp_session(tmp_path_factory) -> GimpSession:
    reason = cb.namespace_supported()
    if reason:
        _unavailable(reason)
    root = Path(os.environ.get("PIXCUT_GIMP_CHROOT", str(cb.DEFAULT_ROOT)))
    if not cb.chroot_ready(root):
        # Build it (about 100 s, Debian's registry only); .ci/setup-gimp is a no-op when it exists.
        subprocess.run(["bash", str(REPO / ".ci" / "setup-gimp"), str(root)], check=True)
    pixcut = Path(sys.executable).with_name("pixcut")
    assert pixcut.is_file(), f"the tests need pixcut's console script beside {sys.executable}"

    work = tmp_path_factory.mktemp("gimp-e2e")
    bridge = cb.plan_bridge(root, pixcut, extra=[work])
    cb.overlay_venv_bin(bridge, pixcut, work)
    missing = cb.missing_libraries(bridge, pixcut)
    assert not missing, f"host Python libraries missing from the chroot (add to .ci/setup-gimp): {missing}"

    from pixcut.hosts import gimp

    profile = work / "profile"
    installed = gimp.install(profile / "plug-ins")
    assert json.loads((installed / "pixcut-location.json").read_text())["executable"] == str(pixcut)
    session = GimpSession(bridge=bridge, work=work, profile=profile, pixcut=pixcut)
    warm = session.run("warm-up", [])  # first start of a fresh profile: GIMP queries every plug-in
    assert warm["registered"] == {name: True for name in PROCEDURES}, (
        "GIMP did not register the plug-in (folder/file name, run bit, or a Python error at query time)"
    )
    return session

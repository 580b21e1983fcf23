"""Start a real Krita 5 under Xvfb in an isolated profile, run one driver job, always clean up.

Facts this relies on (see shared/hosts.md): Krita needs the full GUI (Xvfb, not offscreen) for
actions and dockers; it must get a clean environment (its own HOME and XDG dirs, KDE_DEBUG=1,
a system PATH without any venv) or its embedded Python misses PyQt5 and hangs; a first start
builds a resource database (~15 s), so one profile is warmed per session and copied per test.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pixcut.hosts import krita as krita_host

HERE = Path(__file__).parent
DRIVER = HERE / "driver"
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
SCREEN = ["-screen", "0", "1280x1024x24"]


def krita_available() -> bool:
    return bool(shutil.which("krita") and shutil.which("Xvfb"))


@contextmanager
def xvfb(log: Path, timeout: float = 30) -> Iterator[str]:
    """A private Xvfb for one Krita run; yields its DISPLAY.

    Not ``xvfb-run -a``: that picks the first display number without a lock file, so a test
    could get the number of the previous test's server while that server was still shutting down
    and then lose the socket to its clean-up ("could not connect to display :104", once in CI),
    and a server killed mid-exit left a stale lock each time. Here Xvfb chooses a free number
    itself (``-displayfd``) and reports it only once it accepts connections, and it is waited for
    on the way out, so no two servers ever overlap.
    """
    read_end, write_end = os.pipe()
    with log.open("ab") as out:
        server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", *SCREEN],
            pass_fds=(write_end,),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    os.close(write_end)
    try:
        number = _read_display(read_end, server, timeout)
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _read_display(fd: int, server: subprocess.Popen, timeout: float) -> str:
    """The display number Xvfb writes to ``-displayfd`` once it is ready (a line of digits)."""
    deadline = time.monotonic() + timeout
    text = b""
    while not text.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or server.poll() is not None:
            raise RuntimeError(f"Xvfb did not start (exit {server.poll()}); see the Krita log")
        if select.select([fd], [], [], min(left, 0.5))[0]:
            chunk = os.read(fd, 16)
            if not chunk:
                raise RuntimeError(f"Xvfb closed its display pipe (exit {server.wait(timeout=5)})")
            text += chunk
    return text.decode().strip()


@dataclass
class Profile:
    """One Krita HOME with XDG dirs, the plug-in and the test driver installed."""

    home: Path

    @property
    def data(self) -> Path:
        return self.home / ".local" / "share"

    @property
    def config(self) -> Path:
        return self.home / ".config"

    @property
    def pykrita(self) -> Path:
        return self.data / "krita" / "pykrita"

    @property
    def kritarc(self) -> Path:
        return self.config / "kritarc"

    def env(self, job: Path | None) -> dict:
        env = {
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.data),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_RUNTIME_DIR": str(self.home / "runtime"),
            "KDE_DEBUG": "1",
            "PATH": SYSTEM_PATH,
            "LANG": "C.UTF-8",
        }
        env.update({k: v for k, v in os.environ.items() if k.startswith("PIXCUT_")})
        env.pop("PIXCUT_KRITA_JOB", None)
        if job is not None:
            env["PIXCUT_KRITA_JOB"] = str(job)
        return env

    def set_settings(self, values: dict) -> None:
        """Write Krita's settings group ``pixcut`` the way ``Krita.writeSetting`` would (kritarc)."""
        text = self.kritarc.read_text() if self.kritarc.exists() else ""
        lines, skip = [], False
        for line in text.splitlines():
            if line.strip().startswith("["):
                skip = line.strip() == "[pixcut]"
            if not skip:
                lines.append(line)
        lines += ["", "[pixcut]"] + [f"{key}={value}" for key, value in values.items()]
        self.kritarc.write_text("\n".join(lines) + "\n")


def make_profile(home: Path) -> Profile:
    """A fresh profile: the real installer puts pixcut_krita in; the driver is copied beside it."""
    profile = Profile(home)
    for folder in (profile.pykrita, profile.config, home / ".cache"):
        folder.mkdir(parents=True, exist_ok=True)
    (home / "runtime").mkdir(mode=0o700, exist_ok=True)
    krita_host.install(dest=profile.pykrita, kritarc=profile.kritarc)
    shutil.copytree(DRIVER / "pixcut_test_driver", profile.pykrita / "pixcut_test_driver")
    shutil.copy2(DRIVER / "pixcut_test_driver.desktop", profile.pykrita)
    with profile.kritarc.open("a") as handle:
        handle.write("enable_pixcut_test_driver=true\n")  # install() left [python] as the last group
    return profile


def copy_profile(warm: Profile, home: Path) -> Profile:
    shutil.copytree(warm.home, home, symlinks=True)
    (home / "runtime").chmod(0o700)
    return Profile(home)


def run_krita(profile: Profile, job: dict, workdir: Path, timeout: float = 90) -> dict:
    """Run Krita on ``job``; return the driver's report (plus the log). Kills the group on timeout."""
    workdir.mkdir(parents=True, exist_ok=True)
    job = dict(job, report=str(workdir / "report.json"), out_dir=str(workdir))
    job_file = workdir / "job.json"
    job_file.write_text(json.dumps(job))
    log = workdir / "krita.log"
    log.write_bytes(b"")
    started = time.monotonic()
    with xvfb(log) as display, log.open("ab") as out:
        proc = subprocess.Popen(
            ["krita", "--nosplash"],
            env=dict(profile.env(job_file), DISPLAY=display),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc)
    report_path = Path(job["report"])
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report["_timed_out"] = timed_out
    report["_exit"] = proc.returncode
    report["_wall"] = round(time.monotonic() - started, 1)
    report["_log"] = str(log)
    return report


def _kill_group(proc: subprocess.Popen) -> None:
    """Krita and any pixcut child share the session we started: end them all."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    else:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        proc.wait(timeout=5)


def log_tail(report: dict, lines: int = 40) -> str:
    path = Path(report.get("_log", ""))
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

"""Run real GIMP 3 (in the Debian trixie chroot) so that it can run the *host's* pixcut.

GIMP 3 only exists in the chroot (Debian 12 has 2.10), while pixcut lives in a host venv.
The bridge runs GIMP in a private mount namespace (``unshare --mount --propagation private``)
where the host paths pixcut needs are bind-mounted into the chroot *at the same paths*:

- the repository and the venv (pixcut's code, its console script, its site-packages),
- the venv's base Python: its whole prefix when self-contained (a pyenv or uv build),
  or, for a system Python (prefix /usr, which would shadow the chroot's own /usr), only the
  interpreter file, its stdlib folder and libpython; the venv's ``bin`` is then overlaid with a
  copy whose ``python*`` links point straight at the interpreter (the original link goes through
  /usr/bin/python3, which in the chroot is trixie's 3.13),
- the test's work folder, and /dev, /proc and /sys (subprocess needs /dev/null, onnxruntime reads
  /proc and /sys).

So ``pixcut-location.json`` names the real host path (the venv's ``bin/pixcut``), and every
file path the plug-in hands to pixcut means the same file on both sides. The host interpreter runs
on the chroot's (newer, ABI-compatible) glibc and shared libraries; ``missing_libraries`` checks that.
The mounts belong to the namespace and vanish with its last process: nothing is left behind.

Usable as a script too (for the screenshot): ``python chroot_bridge.py ROOT -- CMD...``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO / ".cache" / "gimp-chroot"
STAMP = ".pixcut-chroot-ready"
SYSTEM_PREFIXES = {"/", "/usr", "/usr/local"}

_PY_INFO = (
    "import json, sys, sysconfig;"
    "print(json.dumps({'base_prefix': sys.base_prefix, 'prefix': sys.prefix,"
    " 'stdlib': sysconfig.get_paths()['stdlib'], 'platstdlib': sysconfig.get_paths()['platstdlib'],"
    " 'libdir': sysconfig.get_config_var('LIBDIR'), 'ldlibrary': sysconfig.get_config_var('LDLIBRARY'),"
    " 'shared': bool(sysconfig.get_config_var('Py_ENABLE_SHARED'))}))"
)


@dataclass
class Bridge:
    """What to mount where; built once per test session by ``plan_bridge``."""

    root: Path
    binds: list[tuple[Path, Path]] = field(default_factory=list)  # (host source, path inside the chroot)

    def add(self, source: Path, target: Path | None = None) -> None:
        """Bind ``source`` at ``target`` (default: the same path), skipping paths already covered."""
        target = target or source
        if any(_is_within(target, t) for _, t in self.binds):
            return
        self.binds.append((source, target))


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def chroot_ready(root: Path = DEFAULT_ROOT) -> bool:
    """True when ``.ci/setup-gimp`` finished building the chroot (its stamp is written last)."""
    return (root / STAMP).is_file()


def plan_bridge(root: Path, pixcut: Path, extra: list[Path] = ()) -> Bridge:
    """The binds that make ``pixcut`` (a venv console script) runnable inside the chroot."""
    bridge = Bridge(root=root)
    venv = pixcut.parent.parent
    python = venv / "bin" / "python"
    info = json.loads(subprocess.run([str(python), "-c", _PY_INFO], check=True, capture_output=True, text=True).stdout)
    bridge.add(REPO)
    for path in extra:
        bridge.add(Path(path))
    bridge.add(venv)
    base = Path(info["base_prefix"])
    if str(base) not in SYSTEM_PREFIXES:
        bridge.add(base)
        return bridge
    interpreter = python.resolve()
    bridge.add(interpreter)
    for key in ("stdlib", "platstdlib"):
        bridge.add(Path(info[key]))
    if info["shared"] and info["libdir"] and info["ldlibrary"]:
        libpython = Path(info["libdir"]) / info["ldlibrary"]
        if libpython.exists():
            bridge.add(libpython.resolve())
    return bridge


def overlay_venv_bin(bridge: Bridge, pixcut: Path, workdir: Path) -> None:
    """For a system-Python venv: a copy of ``venv/bin`` whose ``python*`` link to the bound interpreter."""
    venv_bin = pixcut.parent
    interpreter = (venv_bin / "python").resolve()
    if not str(interpreter).startswith("/usr/"):
        return
    overlay = workdir / "venv-bin-overlay"
    shutil.rmtree(overlay, ignore_errors=True)
    shutil.copytree(venv_bin, overlay, symlinks=True)
    for entry in overlay.iterdir():
        if entry.name.startswith("python"):
            entry.unlink()
            entry.symlink_to(interpreter)
    bridge.binds.append((overlay, venv_bin))


def namespace_script(bridge: Bridge, command: list[str]) -> str:
    """The shell run inside ``unshare``: make mount points, bind, then ``exec chroot``."""
    root = bridge.root
    lines = ["set -e"]
    for source, target in [(Path("/dev"), Path("/dev")), (Path("/sys"), Path("/sys"))] + bridge.binds:
        inside = root / target.relative_to("/")
        if source.is_dir():
            lines.append(f"mkdir -p {shlex.quote(str(inside))}")
        else:
            lines.append(
                f"mkdir -p {shlex.quote(str(inside.parent))}; [ -e {shlex.quote(str(inside))} ] "
                f"|| : > {shlex.quote(str(inside))}"
            )
        lines.append(f"mount --rbind {shlex.quote(str(source))} {shlex.quote(str(inside))}")
    proc = root / "proc"
    lines.append(f"mkdir -p {shlex.quote(str(proc))}; mount -t proc proc {shlex.quote(str(proc))}")
    lines.append(f"exec chroot {shlex.quote(str(root))} " + " ".join(shlex.quote(c) for c in command))
    return "\n".join(lines) + "\n"


def clean_env(**extra: str) -> list[str]:
    """``env -i`` arguments: GIMP sees only what we choose (no host PYTHONPATH, VIRTUAL_ENV, PATH)."""
    base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    base.update(extra)
    return ["env", "-i", *[f"{k}={v}" for k, v in base.items()]]


def run(bridge: Bridge, command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` inside the chroot, in a private mount namespace that dies with it."""
    script = namespace_script(bridge, command)
    argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script]
    return subprocess.run(argv, timeout=timeout, capture_output=True, text=True, **kwargs)


def namespace_supported() -> str | None:
    """None when private mount namespaces and bind mounts work here, else the reason they do not."""
    if os.geteuid() != 0:
        return "needs root (chroot, unshare --mount, mount --bind)"
    if not shutil.which("unshare"):
        return "the unshare tool is missing (util-linux)"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind / /mnt && umount /mnt"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"private mount namespaces are not permitted here: {probe.stderr.strip()}"
    return None


def missing_libraries(bridge: Bridge, pixcut: Path) -> list[str]:
    """Shared libraries the host interpreter or its stdlib extensions cannot find inside the chroot."""
    interpreter = (pixcut.parent / "python").resolve()
    script = (
        f"ldd {shlex.quote(str(interpreter))}; "
        f"for f in $(dirname $({shlex.quote(str(pixcut.parent / 'python'))} -c "
        "'import _ssl; print(_ssl.__file__)'))/*.so; do ldd $f; done"
    )
    result = run(bridge, ["sh", "-c", script], timeout=120)
    missing = {line.split()[0] for line in result.stdout.splitlines() if "not found" in line}
    # Optional stdlib modules whose absence pixcut never notices (GUI toolkits, curses, dbm).
    optional = ("libtk", "libtcl", "libX", "libpanel", "libgdbm", "libmpdec", "libnsl", "libreadline", "libtirpc")
    return sorted(m for m in missing if not m.startswith(optional))


def main(argv: list[str]) -> int:
    """``python chroot_bridge.py [ROOT] -- CMD...``: run CMD in the chroot with the bridge (manual use)."""
    split = argv.index("--")
    root = Path(argv[0]) if split else DEFAULT_ROOT
    pixcut = Path(sys.executable).with_name("pixcut")
    bridge = plan_bridge(root, pixcut, extra=[Path("/tmp")])
    result = run(bridge, argv[split + 1 :], timeout=3600)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

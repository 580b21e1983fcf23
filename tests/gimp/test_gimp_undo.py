"""One undo step in real GIMP 3: a single Ctrl+Z removes everything the action added.

GIMP 3.0's procedure database has no "undo" call, so the only real test is the user's: the GUI
GIMP (Xvfb inside the chroot) runs the procedure from a batch script on an image shown in a
display, the test presses Ctrl+Z once through the X server (XTest, from the host: the chroot's
Xvfb listens on the shared abstract socket), and the batch script, still running, records the
layer stack after that one undo.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import random
import shlex
import shutil
import threading
import time
from pathlib import Path

import chroot_bridge as cb
import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.gimp

BATCH = """
import json, os, time
import gi
gi.require_version('Gimp', '3.0')
from gi.repository import Gimp, Gio
job = json.load(open({job!r}))
def stack(image):
    return [[l.get_name(), l.get_mask() is not None] for l in image.get_layers()]
image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(job['image']))
Gimp.Display.new(image)
Gimp.displays_flush()
report = {{'before': stack(image)}}
procedure = Gimp.get_pdb().lookup_procedure('plug-in-pixcut-remove-background')
config = procedure.create_config()
config.set_property('run-mode', Gimp.RunMode.NONINTERACTIVE)
config.set_property('image', image)
config.set_core_object_array('drawables', image.get_layers())
for key, value in job['args'].items():
    config.set_property(key, value)
report['status'] = procedure.run(config).index(0).value_nick
report['after'] = stack(image)
Gimp.displays_flush()
open(job['ready'], 'w').write('ready')
deadline = time.time() + 60
while time.time() < deadline and stack(image) == report['after']:
    time.sleep(0.2)
time.sleep(1.0)  # a second undo step, if there were one, would not be undone: look again after a while
report['after_undo'] = stack(image)
json.dump(report, open(job['report'], 'w'))
"""


class XTest:
    """Key presses through the X server's XTest extension (libX11 + libXtst via ctypes)."""

    def __init__(self, display: str) -> None:
        x11_name, xtst_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
        if not (x11_name and xtst_name):
            message = "libX11/libXtst are not installed (.ci/setup-krita installs libxtst6)"
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)  # in CI a missing tool is a failure, never a skip
            pytest.skip(message)
        self.x11 = ctypes.CDLL(x11_name)
        self.xtst = ctypes.CDLL(xtst_name)
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.display = self.x11.XOpenDisplay(display.encode())
        assert self.display, f"cannot open X display {display}"

    def pointer(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.display, -1, x, y, 0)
        self.x11.XFlush(self.display)

    def chord(self, *keysyms: int) -> None:
        codes = [self.x11.XKeysymToKeycode(self.display, k) for k in keysyms]
        for code in codes:
            self.xtst.XTestFakeKeyEvent(self.display, code, 1, 0)
        for code in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.display, code, 0, 0)
        self.x11.XFlush(self.display)


@pytest.mark.parametrize("mode", ["mask", "layer"])
def test_one_undo_removes_everything_the_action_added(gimp_session, tmp_path, mode):
    work = gimp_session.work / f"undo-{mode}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    profile = work / "profile"
    shutil.copytree(gimp_session.profile, profile, symlinks=True)
    (profile / "gimprc").write_text("(show-welcome-dialog no)\n")
    image = work / "object.png"
    scene = Image.new("RGB", (240, 180), (245, 245, 240))
    ImageDraw.Draw(scene).ellipse((80, 40, 170, 140), fill=(180, 30, 30))
    scene.save(image)
    job = {
        "image": str(image),
        "args": {"backend": "local", "output-mode": mode},
        "ready": str(work / "ready"),
        "report": str(work / "report.json"),
    }
    (work / "job.json").write_text(json.dumps(job))
    (work / "batch.py").write_text(BATCH.format(job=str(work / "job.json")))
    number = random.randint(120, 180)
    env = " ".join(
        shlex.quote(a) for a in cb.clean_env(HOME=str(work), GIMP3_DIRECTORY=str(profile), DISPLAY=f":{number}")
    )
    batch = f"exec(open({str(work / 'batch.py')!r}).read())"
    gimp = f"gimp-3.0 -n --no-splash --batch-interpreter python-fu-eval -b {shlex.quote(batch)} --quit"
    script = (
        f"Xvfb :{number} -screen 0 1280x800x24 -nolisten tcp & XVFB=$!; sleep 2; "
        f"{env} {gimp} >{work}/gimp.log 2>&1; kill $XVFB; wait"
    )
    bridge = cb.plan_bridge(gimp_session.bridge.root, gimp_session.pixcut, extra=[work])
    cb.overlay_venv_bin(bridge, gimp_session.pixcut, work)
    done: dict[str, object] = {}
    runner = threading.Thread(target=lambda: done.update(result=cb.run(bridge, ["sh", "-c", script], timeout=240)))
    runner.start()
    deadline = time.monotonic() + 200
    while not Path(job["ready"]).exists() and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Path(job["ready"]).exists(), (work / "gimp.log").read_text(errors="replace")[-3000:]
    time.sleep(1.5)  # let GIMP repaint the display
    keys = XTest(f":{number}")
    keys.pointer(640, 400)  # over the image window: no window manager, so focus follows the pointer
    time.sleep(0.5)
    keys.chord(0xFFE3, ord("z"))  # Control_L + z: Edit > Undo, once
    runner.join(timeout=120)
    report = json.loads(Path(job["report"]).read_text())
    print(f"\nGIMP undo ({mode}): before {report['before']}, after {report['after']}")
    print(f"GIMP undo ({mode}): after one Ctrl+Z {report['after_undo']}")
    assert report["status"] == "success"
    assert len(report["after"]) == len(report["before"]) + 1
    assert report["after_undo"] == report["before"]

"""Capture ``docs/gimp-dialog.png``: the plug-in's dialog in the real GIMP 3 GUI, under Xvfb in the chroot.

Run as root from the repository: ``.venv/bin/python tests/gimp/make_screenshot.py`` (after
``bash .ci/setup-gimp``). GIMP opens the sample photo, the plug-in runs INTERACTIVE (so its native
procedure dialog shows), ImageMagick's ``import`` grabs the screen, then everything is stopped.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chroot_bridge as cb

GUI_BATCH = """
import gi
gi.require_version('Gimp', '3.0')
from gi.repository import Gimp, Gio
image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path({photo!r}))
Gimp.Display.new(image)
procedure = Gimp.get_pdb().lookup_procedure('plug-in-pixcut-remove-background')
config = procedure.create_config()
config.set_property('run-mode', Gimp.RunMode.INTERACTIVE)
config.set_property('image', image)
config.set_core_object_array('drawables', image.get_layers())
config.set_property('output-mode', 'mask')  # shows the layer-only options greyed out
config.set_property('target-size', '800 600')
procedure.run(config)
"""


def crop_to_gimp(shot: Path, out: Path) -> None:
    """Keep the part of the screen GIMP's window uses (the rest of the virtual screen is black)."""
    from PIL import Image

    screen = Image.open(shot).convert("RGB")
    box = screen.getbbox() or (0, 0, *screen.size)
    screen.crop(box).save(out, optimize=True)


def main() -> int:
    from pixcut.hosts import gimp

    pixcut = Path(sys.executable).with_name("pixcut")
    out = cb.REPO / "docs" / "gimp-dialog.png"
    with tempfile.TemporaryDirectory(prefix="pixcut-shot-") as work_name:
        work = Path(work_name)
        profile = work / "profile"
        gimp.install(profile / "plug-ins")
        (profile / "gimprc").write_text("(show-welcome-dialog no)\n")
        (work / "home").mkdir()
        batch = work / "batch.py"
        batch.write_text(GUI_BATCH.format(photo=str(cb.REPO / "docs" / "samples" / "astronaut.jpg")))
        shot = work / "shot.png"
        variables = cb.clean_env(HOME=str(work / "home"), GIMP3_DIRECTORY=str(profile), DISPLAY=":77")
        env = " ".join(shlex.quote(a) for a in variables)
        gimp_cmd = (
            f"gimp-3.0 -n --no-splash --batch-interpreter python-fu-eval "
            f"-b {shlex.quote(f'exec(open({str(batch)!r}).read())')}"
        )
        script = (
            "Xvfb :77 -screen 0 1400x900x24 -nolisten tcp & XVFB=$!; sleep 2; "
            f"{env} {gimp_cmd} >{work}/gimp.log 2>&1 & GIMP=$!; "
            "sleep ${PIXCUT_SHOT_WAIT:-40}; "
            f"{env} import -window root {shlex.quote(str(shot))}; "
            "kill $GIMP; sleep 2; kill -9 $GIMP 2>/dev/null; kill $XVFB; wait"
        )
        bridge = cb.plan_bridge(cb.DEFAULT_ROOT, pixcut, extra=[work])
        cb.overlay_venv_bin(bridge, pixcut, work)
        result = cb.run(bridge, ["sh", "-c", script], timeout=300)
        if not shot.is_file():
            print(result.stdout, result.stderr, (work / "gimp.log").read_text(), sep="\n")
            return 1
        crop_to_gimp(shot, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Take docs/krita-docker.png: a real Krita (Xvfb) with the pixcut docker and a fresh cutout.

Run from the repository root with the venv's python: ``.venv/bin/python tests/krita/make_screenshot.py``.
Not a test (it rewrites a docs file); it reuses the test harness so the profile is as isolated.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

import kritaharness

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    out = REPO / "docs" / "krita-docker.png"
    with tempfile.TemporaryDirectory(prefix="pixcut-shot-") as tmp:
        tmp = Path(tmp)
        image = tmp / "astronaut.png"
        Image.open(REPO / "docs" / "samples" / "astronaut.jpg").convert("RGB").save(image)
        profile = kritaharness.make_profile(tmp / "home")
        profile.set_settings(
            {
                "backend": "local",
                "output_mode": "layer",
                "crop_to_foreground": "false",
                "margin": "",
                "background_color": "",
                "target_size": "",
            }
        )
        job = {
            "image": str(image),
            "action": "pixcut_remove_background_repeat",
            "show_docker": True,
            "screenshot": str(tmp / "shot.png"),
            "hide_source": True,
            "timeout": 90,
        }
        report = kritaharness.run_krita(profile, job, tmp / "run", timeout=150)
        if report.get("status") != "ok" or not (tmp / "shot.png").exists():
            print(report, kritaharness.log_tail(report), sep="\n")
            return 1
        Image.open(tmp / "shot.png").convert("RGB").save(out, optimize=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

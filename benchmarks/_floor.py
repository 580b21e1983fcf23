"""The floor of one removal: bare decode + one inference on a ready tensor + PNG encoding of the cutout.

What a pipeline cannot go below on one image without a faster model or codec. ``floor_stages`` gives
the three stages as callables so a benchmark can time them interleaved with the full pipeline, in the
same process and machine state (``benchmarks/engine.py`` does); ``measure_floor`` times them alone in
a child process of pixcut's venv (``benchmarks/server.py``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIXCUT_PY = HERE.parent / ".venv" / "bin" / "python"


def floor_stages(data: bytes) -> dict[str, Callable[[], object]]:
    """decode, inference and encode of ``data`` (image file bytes) with pixcut's defaults."""
    from PIL import Image

    from pixcut import remove_background
    from pixcut.encoding import encode
    from pixcut.engine import get_engine
    from pixcut.engine.tensors import to_tensor

    engine = get_engine()
    cutout = remove_background(data).image

    def decode() -> Image.Image:
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("RGB")

    tensor = to_tensor(decode(), engine.spec)
    return {"decode": decode, "inference": lambda: engine.session.run(tensor), "encode": lambda: encode(cutout, "png")}


# argv = benchmarks folder, image path, repeat
SCRIPT = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from _floor import floor_stages
stages = floor_stages(open(sys.argv[2], "rb").read())
out = {}
for name, stage in stages.items():
    stage()
    times = []
    for _ in range(int(sys.argv[3])):
        t0 = time.perf_counter(); stage(); times.append(time.perf_counter() - t0)
    out[name] = statistics.median(times)
print(json.dumps(out))
"""


def measure_floor(image: Path, repeat: int = 5) -> dict[str, float]:
    """Median seconds of each stage (decode, inference, encode) for ``image``, in a child process."""
    proc = subprocess.run(
        [str(PIXCUT_PY), "-c", SCRIPT, str(HERE), str(image), str(repeat)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"floor measurement failed: {proc.stderr[-2000:]}")
    stages: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return stages


def describe_floor(stages: dict[str, float]) -> str:
    """'decode 0.007 + inference 0.250 + encode 0.030 = 0.287'."""
    parts = " + ".join(f"{name} {seconds:.3f}" for name, seconds in stages.items())
    return f"{parts} = {sum(stages.values()):.3f}"

"""The floor of one removal: bare decode + one inference on a ready tensor + PNG encoding of the cutout.

Timed stage by stage in a child process of pixcut's venv (medians), so both benchmarks can print how far
the full pipeline is from what it cannot go below without a faster model or codec.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIXCUT_PY = REPO / ".venv" / "bin" / "python"

# argv = image path, repeat
SCRIPT = r"""
import io, json, statistics, sys, time
from PIL import Image
from pixcut import remove_background
from pixcut.encoding import encode
from pixcut.engine import get_engine
from pixcut.engine.tensors import to_tensor
path, repeat = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
engine = get_engine()
cutout = remove_background(data).image
def decode():
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")
tensor = to_tensor(decode(), engine.spec)
stages = {"decode": decode, "inference": lambda: engine.session.run(tensor), "encode": lambda: encode(cutout, "png")}
out = {}
for name, stage in stages.items():
    stage()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); stage(); times.append(time.perf_counter() - t0)
    out[name] = statistics.median(times)
print(json.dumps(out))
"""


def measure_floor(image: Path, repeat: int = 5) -> dict[str, float]:
    """Median seconds of each stage (decode, inference, encode) for ``image``."""
    proc = subprocess.run(
        [str(PIXCUT_PY), "-c", SCRIPT, str(image), str(repeat)],
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

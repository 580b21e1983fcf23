"""The ncnn runtime behind :class:`pixcut.engine.session.ManagedSession`'s interface.

One ``ncnn.Net`` per (model, threads) holds the translated weights; every ``run`` makes its own
extractor, which ncnn supports from several threads on one net, so a batch or the server shares
one copy of the weights like they share one ONNX Runtime session.

Options: float32 throughout (no fp16/bf16 storage or arithmetic: the masks must equal ONNX
Runtime's), Winograd and packed layouts on (the speed), light mode on (intermediate maps are
freed as soon as their last reader ran, which keeps the peak memory of a run low).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pixcut.engine.session import NCNN, ManagedSession


def ncnn_available() -> bool:
    """Whether both packages the ncnn runtime needs are installed. ``onnx`` is only looked up, not
    imported (54 ms): a translation read from the cache (``ncnn_cache``) does not need it."""
    try:
        import ncnn  # noqa: F401
    except ImportError:
        return False
    return importlib.util.find_spec("onnx") is not None


@dataclass
class NcnnSession(ManagedSession):
    """A translated model on ncnn; ``run`` takes and returns what ONNX Runtime's does."""

    output_blob: str = ""

    def run(self, tensor: Any) -> list[Any]:
        import ncnn

        image = np.ascontiguousarray(tensor[0], dtype=np.float32)
        extractor = self.session.create_extractor()
        try:
            extractor.input(self.input_name, ncnn.Mat(image))
            status, out = extractor.extract(self.output_blob)
            if status != 0:
                raise RuntimeError(f"ncnn extraction failed with status {status}")
            result = np.array(out, dtype=np.float32)
        finally:
            extractor.clear()
        return [result.reshape((1, -1, *result.shape[-2:]))]  # (1, C, H, W), as ONNX Runtime gives


def create_ncnn_session(path: Path, threads: int | None) -> NcnnSession:
    """Translate ``path`` (or read the translation from ``ncnn_cache``) and load it into ncnn (raises
    UnsupportedGraphError when it cannot)."""
    import ncnn

    from pixcut.engine import ncnn_cache
    from pixcut.engine.onnx_to_ncnn import UnsupportedGraphError

    net_files = ncnn_cache.translate(path)
    net = ncnn.Net()
    opt = net.opt
    opt.num_threads = threads or os.cpu_count() or 1
    opt.use_vulkan_compute = False
    opt.use_fp16_packed = False
    opt.use_fp16_storage = False
    opt.use_fp16_arithmetic = False
    opt.use_bf16_storage = False
    opt.use_winograd_convolution = True
    opt.use_packing_layout = True
    opt.lightmode = True
    if net.load_param_mem(net_files.param) != 0:
        raise UnsupportedGraphError("ncnn refused the translated graph")
    # ncnn copies the weights: a net gave bit-identical outputs after these bytes were freed and
    # their memory overwritten, so the session does not keep them (176 MB for u2net).
    net.load_model_mem(net_files.weights)  # the binding returns nothing; the tests compare outputs
    return NcnnSession(
        session=net,
        path=path,
        threads=threads,
        provider="ncnn (CPU)",
        input_name=net_files.input_blob,
        input_shape=net_files.input_shape,
        runtime=NCNN,
        output_blob=net_files.output_blobs[0],
    )

"""The offline background-removal engine (ONNX Runtime + numpy + Pillow only).

Public interface::

    from pixcut.engine import get_engine, Engine
    eng = get_engine(model=None, threads=None)   # cached per (model, threads) per process
    eng.provider, eng.model_name
    alpha = eng.predict_alpha(rgb)                # mode "L", same size as rgb; thread-safe
"""

from __future__ import annotations

from pixcut.engine.decontaminate import estimate_foreground
from pixcut.engine.engine import Engine, clear_engines, get_engine
from pixcut.engine.models import (
    DEFAULT_MODEL,
    REGISTRY,
    ModelSpec,
    ResolvedModel,
    model_dir,
    resolve_model,
)
from pixcut.engine.options import EngineOptions

__all__ = [
    "DEFAULT_MODEL",
    "REGISTRY",
    "Engine",
    "EngineOptions",
    "ModelSpec",
    "ResolvedModel",
    "clear_engines",
    "estimate_foreground",
    "get_engine",
    "model_dir",
    "resolve_model",
]

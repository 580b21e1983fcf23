"""The offline engine: RGB image in, alpha mask (mode "L", same size) out.

``get_engine()`` returns one cached :class:`Engine` per (model, threads, options) per process;
engines are immutable after construction and share the process-wide ONNX session, so one
engine may be used from many threads at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import numpy as np
from PIL import Image

from pixcut.engine.models import DEFAULT_MODEL, ModelSpec, ResolvedModel, resolve_model
from pixcut.engine.options import EngineOptions
from pixcut.engine.refine import refine_alpha
from pixcut.engine.session import ManagedSession, get_session
from pixcut.engine.tensors import minmax, raw_prediction, to_tensor
from pixcut.errors import ModelError


class Engine:
    """A model ready to predict masks.

    Attributes: ``model_name`` (registry name or file stem), ``provider`` (the ONNX Runtime
    execution provider in use), ``spec`` (input size and normalisation), ``path`` (model file),
    ``options`` (the refinement defaults, see :class:`EngineOptions`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        threads: int | None = None,
        options: EngineOptions | None = None,
        *,
        resolved: ResolvedModel | None = None,
        family: str | None = None,
        runtime: str | None = None,
    ) -> None:
        self.resolved = resolved or resolve_model(model, family=family)
        self.session: ManagedSession = get_session(
            self.resolved.path, threads, family=self.resolved.spec.family, runtime=runtime
        )
        spec = self.resolved.spec
        static = self.session.static_input_size()
        if static is not None and static != spec.input_size:
            # The graph is the authority on its input size (e.g. an unknown user model).
            spec = replace(spec, input_size=static)
        self.spec: ModelSpec = spec
        self.path = self.resolved.path
        self.threads = threads
        self.options = options or EngineOptions()
        self.model_name: str = spec.name
        self.provider: str = self.session.provider

    def __repr__(self) -> str:
        return f"Engine(model={self.model_name!r}, provider={self.provider!r}, threads={self.threads})"

    # -- prediction -------------------------------------------------------------------------

    def predict_small(self, rgb: Image.Image, *, flip: bool = False) -> np.ndarray:
        """The model's min-max normalised output at model size (float32 H x W, values in [0, 1]).

        With ``flip`` the image is mirrored before inference and the prediction mirrored back,
        so the result is aligned with the unflipped input.
        """
        tensor = to_tensor(rgb, self.spec, flip=flip)
        try:
            outputs = self.session.run(tensor)
        except Exception as exc:  # ORT's own exception types are not importable uniformly
            raise ModelError(f"inference with {self.path} failed: {exc}") from exc
        pred = minmax(raw_prediction(outputs[0], self.spec))
        if flip:
            pred = np.ascontiguousarray(pred[:, ::-1])
        return pred

    def predict_alpha_array(self, rgb: Image.Image, *, options: EngineOptions | None = None) -> np.ndarray:
        """Alpha as float32 (H, W) in [0, 1] at the input's size (see :meth:`predict_alpha`)."""
        return self._predict(rgb, options, np.float32)

    def _predict(self, rgb: Image.Image, options: EngineOptions | None, dtype: type) -> np.ndarray:
        opts = options or self.options
        rgb = rgb if rgb.mode == "RGB" else rgb.convert("RGB")
        pred = self.predict_small(rgb)
        if opts.flip:
            pred += self.predict_small(rgb, flip=True)
            pred *= 0.5
        return refine_alpha(pred, rgb, opts, dtype=dtype)

    def predict_alpha(self, rgb: Image.Image, *, options: EngineOptions | None = None) -> Image.Image:
        """Predict the foreground mask of ``rgb``: mode "L", same size as the input.

        The network runs at model size; only the mask is upsampled (and refined against the
        full-resolution image when the options ask for it), so memory stays bounded for large
        inputs.
        """
        return Image.fromarray(self._predict(rgb, options, np.uint8))  # 2-D uint8 -> mode "L"


_cache_lock = threading.Lock()
_engines: dict[tuple[str, int | None, EngineOptions, str | None, str | None], Engine] = {}


def get_engine(
    model: str | None = None,
    threads: int | None = None,
    *,
    options: EngineOptions | None = None,
    family: str | None = None,
    runtime: str | None = None,
) -> Engine:
    """The process-wide engine for (model, threads, options, family); created on first use.

    ``model`` is a registry name (default ``"u2netp"``), an ``.onnx`` path, or
    ``"https://.../net.onnx#sha256=<hex>"``; ``family`` declares an ``.onnx`` file's preprocessing
    (``u2net``, ``isnet``, ``birefnet``: :data:`pixcut.engine.models.FAMILIES`); ``runtime``
    (``auto``, ``onnxruntime``, ``ncnn``; None: ``PIXCUT_RUNTIME``, else auto) picks the runtime. Raises
    :class:`pixcut.errors.ModelError` with a fix-it message when the model is missing or corrupt.
    """
    name = os.fspath(model) if model is not None else DEFAULT_MODEL
    opts = options or EngineOptions()
    key = (name, threads, opts, family, runtime)
    with _cache_lock:
        eng = _engines.get(key)
        if eng is None:
            eng = Engine(name, threads, opts, family=family, runtime=runtime)
            _engines[key] = eng
        return eng


def clear_engines() -> None:
    """Forget cached engines (sessions stay cached in :mod:`pixcut.engine.session`)."""
    with _cache_lock:
        _engines.clear()

"""The offline backend: the same options and the same typed result as the cloud, with no account.

Order of work mirrors the API: EXIF orientation and the 32 MP limit (imageio),
``max_pixels`` downscale, mask prediction at model size (engine), a cutout at the
working size, then the shared finishing and encoding (finishing). Memory stays
bounded for large inputs because the model sees only a small copy and the mask is
upsampled once.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from PIL import Image

from pixcut.backends import BackendSettings, ImageInput
from pixcut.config import model_choice
from pixcut.errors import ModelError, OptionsError
from pixcut.finishing import build_result, make_cutout
from pixcut.hookspecs import RegisterBackend, hookimpl
from pixcut.imageio import downscale_to, load_input
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult
from pixcut.watermark import apply_test_watermark

if TYPE_CHECKING:
    from pixcut.engine import Engine


def engine_module() -> ModuleType:
    """``pixcut.engine``, imported on first use: numpy and onnxruntime come with the ``local`` extra.

    A base install (``pip install pixcut``, cloud only) then gets a ModelError that says what to
    install instead of a bare ``No module named 'numpy'``.
    """
    try:
        import pixcut.engine as engine
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise ModelError(
            f"the offline engine is not installed ({missing} is missing): pip install 'pixcut[local]' "
            f"(or use the cloud: --backend pixian)"
        ) from exc
    return engine


class LocalBackend:
    """Runs the ONNX engine in this process; thread-safe (the engine session is shared)."""

    name = "local"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            model, family = model_choice(self.settings.model, self.settings.model_family)
            self._engine = engine_module().get_engine(
                model, self.settings.threads, family=family, runtime=self.settings.runtime
            )
        return self._engine

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult:
        if source.data is None:
            raise OptionsError(
                "image.url: the offline backend does not fetch URLs; download the image first, "
                "or use 'pixcut serve --allow-url-fetch'"
            )
        loaded = load_input(source.data)
        work = downscale_to(loaded.image, options.max_pixels)
        rgb = work.convert("RGB")
        alpha = self.engine.predict_alpha(rgb)
        if self.settings.decontaminate:
            colours: Image.Image = engine_module().estimate_foreground(rgb, alpha)
            if work.mode == "RGBA":
                colours.putalpha(work.getchannel("A"))
            work = colours
        cutout = make_cutout(work, alpha)
        del alpha, rgb
        return build_result(
            cutout,
            options,
            input_size=loaded.size,
            orientation=loaded.orientation,
            credits_charged=0.0,
            credits_calculated=0.0 if options.test else None,
            decorate=apply_test_watermark if options.test else None,
            backend=self.name,
            metadata=loaded.metadata,
        )


@hookimpl(trylast=True)  # a built-in: an installed plug-in registering the same name wins
def pixcut_register_backends(register: RegisterBackend) -> None:
    register("local", LocalBackend, "offline engine (ONNX, U^2-Net small by default; no account, no network)")

"""The headless Python API: ``pixcut.remove_background``.

One call for scripts and image pipelines, whatever the backend: it validates
options first (no request is made for a bad parameter), tells the observers
(``pixcut_before_removal`` / ``pixcut_after_removal``), and implements the
``delta`` transfer: ask the backend for a Delta PNG, rebuild it against the
local input and finish it here with the shared finishing code.
"""

from __future__ import annotations

import os
from typing import Any

from PIL import Image

from pixcut.backends import Backend, BackendSettings, ImageInput, create_backend
from pixcut.delta_png import decode_delta
from pixcut.errors import OptionsError
from pixcut.finishing import build_result, canonical_cutout
from pixcut.imageio import load_input
from pixcut.options import RemovalOptions
from pixcut.plugins import load_plugins
from pixcut.result import RemovalResult


def remove_background(
    image: str | os.PathLike[str] | bytes | Image.Image | ImageInput,
    options: RemovalOptions | None = None,
    backend: str | Backend | None = None,
    *,
    delta: bool = False,
    settings: BackendSettings | None = None,
    **option_values: Any,
) -> RemovalResult:
    """Remove the background of one image and return the finished result.

    ``image`` is a path, an http(s) URL (cloud backend only), file bytes or a PIL
    image. Options come as a ``RemovalOptions`` and/or keyword arguments named like
    its fields (``crop_to_foreground=True, margin="5%"``). ``backend`` is a
    registered name ('local', the default, or 'pixian') or a backend object.
    With ``delta=True`` only a Delta PNG crosses the wire and the result is
    finished locally; the pixels are the same as asking for the finished result.
    """
    opts = options or RemovalOptions()
    if option_values:
        opts = opts.replace(**option_values)
    chosen = backend if backend is not None and not isinstance(backend, str) else create_backend(backend, settings)
    source = ImageInput.from_source(image)
    request = {"backend": chosen.name, "input": source.display_name, "options": opts}
    hook = load_plugins().hook
    hook.pixcut_before_removal(request=request)
    try:
        if delta and opts.output_format != "delta_png":
            result = _remove_via_delta(chosen, source, opts)
        else:
            result = chosen.remove(source, opts)
    except BaseException as error:
        hook.pixcut_after_removal(request=request, result=None, error=error)
        raise
    hook.pixcut_after_removal(request=request, result=result, error=None)
    return result


def _remove_via_delta(backend: Backend, source: ImageInput, options: RemovalOptions) -> RemovalResult:
    """Fetch a Delta PNG, rebuild the cutout against the local input, finish it locally."""
    if source.data is None:
        raise OptionsError("delta: a Delta PNG is rebuilt from the input, so the input must be a local file")
    probe = load_input(source.data)
    width, height = probe.size
    if width * height > options.max_pixels:
        raise OptionsError(
            f"delta: the input ({width}x{height}) is larger than max_pixels ({options.max_pixels:,}); "
            f"a downscaled result cannot be rebuilt. Raise max_pixels or drop --delta."
        )
    delta_options = RemovalOptions(test=options.test, max_pixels=options.max_pixels, output_format="delta_png")
    delta = backend.remove(source, delta_options)
    orientation = delta.info.input_orientation or probe.orientation
    upright = probe if orientation == probe.orientation else load_input(source.data, orientation=orientation)
    cutout = canonical_cutout(decode_delta(delta.data, upright.image))
    result = build_result(
        cutout,
        options,
        input_size=upright.size,
        orientation=orientation,
        credits_charged=delta.info.credits_charged,
        credits_calculated=delta.info.credits_calculated,
        backend=backend.name,
        metadata=upright.metadata,  # the local file's ICC profile (and EXIF/XMP with keep_metadata)
    )
    result.converted_for_upload = delta.converted_for_upload
    return result

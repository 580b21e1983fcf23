"""pixcut-chromakey: a pixcut backend that keys out a flat background colour.

The whole plug-in is this module: a backend class and one ``pixcut_register_backends``
hook implementation. The entry point in pyproject.toml makes pixcut load it; every pixcut
option (crop, margin, target size, background colour, formats, ``--json`` events) then works
with ``--backend chromakey`` because the backend hands its cutout to pixcut's finishing.
"""

from __future__ import annotations

from PIL import Image, ImageChops

from pixcut import BackendSettings, ImageInput, OptionsError, RemovalOptions, RemovalResult, hookimpl
from pixcut.finishing import build_result, make_cutout
from pixcut.hookspecs import RegisterBackend
from pixcut.imageio import downscale_to, load_input

TOLERANCE = 40  # per-channel distance from the key colour still counted as background
SOFTNESS = 40  # beyond the tolerance, alpha ramps from 0 to 255 over this much more distance
RAMP = [0 if d <= TOLERANCE else min(255, (d - TOLERANCE) * 255 // SOFTNESS) for d in range(256)]


class ChromaKeyBackend:
    """Transparent where a pixel is close to the top-left pixel's colour, opaque elsewhere."""

    name = "chromakey"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings  # nothing to configure here; a cloud backend would read endpoint/credentials

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult:
        if source.data is None:
            raise OptionsError("chromakey: give a local file (this backend does not fetch URLs)")
        loaded = load_input(source.data)  # EXIF orientation, the 32 MP limit, decompression-bomb guards
        work = downscale_to(loaded.image, options.max_pixels)
        rgb = work.convert("RGB")
        key = Image.new("RGB", rgb.size, rgb.getpixel((0, 0)))
        red, green, blue = ImageChops.difference(rgb, key).split()
        distance = ImageChops.lighter(ImageChops.lighter(red, green), blue)  # the largest channel difference
        alpha = distance.point(RAMP)
        return build_result(  # crop, margin, target size, background colour, encoding and result headers
            make_cutout(work, alpha),
            options,
            input_size=loaded.size,
            orientation=loaded.orientation,
            credits_charged=0.0,
            backend=self.name,
        )


@hookimpl
def pixcut_register_backends(register: RegisterBackend) -> None:
    register("chromakey", ChromaKeyBackend, "keys out a flat background colour (example plug-in)")

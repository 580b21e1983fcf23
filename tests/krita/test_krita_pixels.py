"""The Krita plug-in's own pure parts (pixels.py), imported from a copy the real installer made."""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

import pytest
from PIL import Image

from pixcut.hosts import krita


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """``pixcut_krita`` installed into a throw-away pykrita folder, imported as Krita would (no Krita here)."""
    root = tmp_path_factory.mktemp("pykrita")
    krita.install(dest=root, kritarc=root / "kritarc")
    sys.path.insert(0, str(root))
    try:
        import pixcut_krita
        from pixcut_krita import pixcut_hostkit, pixels

        yield pixcut_krita, pixels, pixcut_hostkit
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "pixcut_krita" or n.startswith("pixcut_krita.")]:
            del sys.modules[name]


def test_package_imports_without_krita_and_pixels_are_stdlib_only(plugin):
    package, pixels, _kit = plugin
    assert package.Krita is None  # outside Krita the package registers nothing
    tree = ast.parse(Path(pixels.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__", "pixcut_hostkit"}, imported


def test_bgra_rgba_swap_roundtrip(plugin):
    _package, pixels, _kit = plugin
    bgra = bytes([1, 2, 3, 4, 10, 20, 30, 40])
    rgba = pixels.bgra_to_rgba(bgra)
    assert rgba == bytes([3, 2, 1, 4, 30, 20, 10, 40])
    assert pixels.rgba_to_bgra(rgba) == bgra
    assert pixels.alpha_channel(rgba) == bytes([4, 40])


def test_layer_format_refused_with_a_way_out(plugin):
    _package, pixels, kit = plugin
    pixels.check_layer_format("RGBA", "U8")
    with pytest.raises(kit.HostError, match="Convert Image Color Space"):
        pixels.check_layer_format("RGBA", "U16")
    with pytest.raises(kit.HostError, match="CMYKA/U8"):
        pixels.check_layer_format("CMYKA", "U8")


def test_encode_png_is_read_back_by_pillow(plugin):
    _package, pixels, _kit = plugin
    rgba = bytes((x * 7 + y * 13 + c * 50) % 256 for y in range(9) for x in range(17) for c in range(4))
    image = Image.open(io.BytesIO(pixels.encode_png(rgba, 17, 9)))
    assert image.mode == "RGBA" and image.size == (17, 9)
    assert image.tobytes() == rgba
    with pytest.raises(ValueError, match="expected 612 bytes"):
        pixels.encode_png(rgba[:-1], 17, 9)

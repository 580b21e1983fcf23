"""The translated-model cache: a fresh process reads the translation instead of redoing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pixcut.atomic import current_umask
from pixcut.engine import ncnn_cache
from pixcut.engine.models import resolve_model
from pixcut.engine.onnx_to_ncnn import convert


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIXCUT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ncnn"


def _entry_files(folder: Path) -> list[str]:
    return sorted(path.suffix for path in folder.iterdir())


def test_the_first_translation_is_stored_and_the_next_read_back_intact(cache: Path) -> None:
    model = resolve_model().path
    reference = convert(str(model))
    first = ncnn_cache.translate(model)
    assert _entry_files(cache) == [".bin", ".json", ".param"]
    assert all(path.stat().st_mode & 0o777 == 0o666 & ~current_umask() for path in cache.iterdir())
    second = ncnn_cache.translate(model)
    for net in (first, second):
        assert (net.param, net.weights, net.input_blob, net.output_blobs, net.input_shape) == (
            reference.param,
            reference.weights,
            reference.input_blob,
            reference.output_blobs,
            reference.input_shape,
        )


def test_a_damaged_entry_is_translated_again_and_rewritten(cache: Path) -> None:
    model = resolve_model().path
    ncnn_cache.translate(model)
    weights = next(cache.glob("*.bin"))
    damaged = bytearray(weights.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    assert ncnn_cache.translate(model).weights == convert(str(model)).weights
    assert weights.read_bytes() == convert(str(model)).weights  # rewritten
    meta = next(cache.glob("*.json"))
    meta.write_text("{not json")
    assert ncnn_cache.translate(model).param == convert(str(model)).param
    assert json.loads(meta.read_text())["input_blob"]


def test_an_entry_of_another_translator_version_is_replaced(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = resolve_model().path
    monkeypatch.setattr(ncnn_cache, "_translator_digest", "0" * 16)
    ncnn_cache.translate(model)
    monkeypatch.setattr(ncnn_cache, "_translator_digest", None)  # back to the real digest
    ncnn_cache.translate(model)
    names = [path.name for path in cache.iterdir()]
    assert len(names) == 3 and not any(".0000000000000000." in name for name in names)
    assert all(ncnn_cache.translator_digest() in name for name in names)


def test_an_unwritable_cache_costs_only_the_translation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made under a file")
    monkeypatch.setenv("PIXCUT_CACHE_DIR", str(blocker))
    model = resolve_model().path
    assert ncnn_cache.translate(model).weights == convert(str(model)).weights


ENGINE = """
import json, sys
import numpy as np
from PIL import Image
from pixcut.engine import get_engine
engine = get_engine()
alpha = np.asarray(engine.predict_alpha(Image.open(sys.argv[1]).convert("RGB")))
print(json.dumps({"onnx_imported": "onnx" in sys.modules, "provider": engine.provider, "alpha": alpha.tolist()}))
"""


def test_a_fresh_process_with_a_warm_cache_skips_onnx_and_masks_the_same(cache: Path, photo_path: Path) -> None:
    def run() -> dict:
        proc = subprocess.run(
            [sys.executable, "-c", ENGINE, str(photo_path)], capture_output=True, text=True, timeout=300, check=True
        )
        return json.loads(proc.stdout)

    cold, warm = run(), run()
    assert cold["provider"] == warm["provider"] == "ncnn (CPU)"
    assert cold["onnx_imported"] and not warm["onnx_imported"]
    assert np.array_equal(np.array(cold["alpha"]), np.array(warm["alpha"]))

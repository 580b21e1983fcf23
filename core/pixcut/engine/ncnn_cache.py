"""Translated ncnn networks kept on disk, so a fresh process skips the ONNX -> ncnn translation.

Why: every GIMP or Krita click is a fresh ``pixcut remove`` process, and each one translated the
model again. For u2netp that was 81 ms of a 0.8 s click (importing ``onnx`` 54 ms, the
translation 27 ms); for u2net 0.9 s (reading its 176 MB graph and rewriting the weights). A
translation depends only on the model file's bytes and on the translator, so it is stored under
both: ``<cache>/ncnn/<model sha256>.<translator digest>.{param,bin,json}``, where ``<cache>`` is
``PIXCUT_CACHE_DIR`` or ``platformdirs.user_cache_dir("pixcut")`` and the translator digest
covers ``onnx_to_ncnn.py`` and the ncnn version. A changed model or a new pixcut never reads an
old entry.

The JSON, written last, names the blobs and holds the SHA-256 of the other two files; an entry
whose files do not match it (a crash mid-write, a full disk, an edit) is translated again and
rewritten. Writes are atomic with normal file modes and best-effort: a read-only or full disk
costs the translation, nothing else. Writing a model's entry removes that model's entries of
other translator versions, so the folder holds one entry per model file (the size of its
weights, about the size of the ``.onnx``). The cache is only read for the model's own input
size, which is what the engine feeds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from pixcut.atomic import write_atomic
from pixcut.engine import onnx_to_ncnn
from pixcut.engine.models import known_digest
from pixcut.engine.onnx_to_ncnn import NcnnNet

logger = logging.getLogger(__name__)

_translator_digest: str | None = None


def cache_dir() -> Path:
    """Where translated networks are kept (``PIXCUT_CACHE_DIR`` wins, as PIXCUT_MODEL_DIR does for models)."""
    env = os.environ.get("PIXCUT_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "ncnn"
    import platformdirs

    return Path(platformdirs.user_cache_dir("pixcut")) / "ncnn"


def translator_digest() -> str:
    """The first 16 hex digits of SHA-256(onnx_to_ncnn.py + ncnn's version): what a translation depends on
    besides the model."""
    global _translator_digest
    if _translator_digest is None:
        import ncnn

        source = Path(onnx_to_ncnn.__file__).read_bytes()
        version = str(getattr(ncnn, "__version__", "")).encode()
        _translator_digest = hashlib.sha256(source + b"\0" + version).hexdigest()[:16]
    return _translator_digest


def translate(model: Path) -> NcnnNet:
    """``onnx_to_ncnn.convert(model)``, from the cache when an intact entry exists, else translated
    and stored (raises :class:`onnx_to_ncnn.UnsupportedGraphError` like ``convert``)."""
    model_sha = known_digest(model)
    folder = cache_dir()
    stem = f"{model_sha}.{translator_digest()}"
    cached = _read(folder, stem)
    if cached is not None:
        return cached
    net = onnx_to_ncnn.convert(str(model))
    _write(folder, model_sha, stem, net)
    return net


def forget(model_sha256: str, *, keep: str | None = None) -> list[Path]:
    """Delete the cached translations of the model file with this SHA-256, except the entry named
    ``keep`` (a stem); return what was deleted. ``pixcut models remove`` calls it so a removed
    model leaves no weights behind, and a new entry so its model's older ones go."""
    folder = cache_dir()
    removed = []
    for path in sorted(folder.glob(f"{model_sha256}.*")) if folder.is_dir() else []:
        if keep is None or not path.name.startswith(keep + "."):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def usage() -> tuple[int, int]:
    """(entries, bytes) in the cache folder, for ``pixcut doctor``."""
    folder = cache_dir()
    files = [path for path in folder.iterdir() if path.is_file()] if folder.is_dir() else []
    return sum(1 for path in files if path.suffix == ".json"), sum(path.stat().st_size for path in files)


def _read(folder: Path, stem: str) -> NcnnNet | None:
    try:
        meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
        param = (folder / f"{stem}.param").read_bytes()
        weights = (folder / f"{stem}.bin").read_bytes()
        if hashlib.sha256(param).hexdigest() != meta["param_sha256"]:
            return None
        if hashlib.sha256(weights).hexdigest() != meta["weights_sha256"]:
            return None
        n, c, h, w = (int(d) for d in meta["input_shape"])
        return NcnnNet(
            param.decode("utf-8"),
            weights,
            str(meta["input_blob"]),
            [str(name) for name in meta["output_blobs"]],
            (n, c, h, w),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:  # unreadable or not ours
        logger.debug("ignoring the cached ncnn translation %s: %s", stem, exc)
        return None


def _write(folder: Path, model_sha: str, stem: str, net: NcnnNet) -> None:
    param = net.param.encode("utf-8")
    meta = {
        "input_blob": net.input_blob,
        "output_blobs": net.output_blobs,
        "input_shape": list(net.input_shape),
        "param_sha256": hashlib.sha256(param).hexdigest(),
        "weights_sha256": hashlib.sha256(net.weights).hexdigest(),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{stem}.param", param)
        write_atomic(folder / f"{stem}.bin", net.weights)
        write_atomic(folder / f"{stem}.json", json.dumps(meta, indent=1).encode("utf-8"))
        forget(model_sha, keep=stem)  # the model's entries from other translator versions
    except Exception as exc:  # the cache is an optimisation: a read-only or full disk costs only time
        logger.debug("could not store the ncnn translation in %s: %s", folder, exc)

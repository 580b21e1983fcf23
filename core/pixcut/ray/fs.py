"""Files on any filesystem pyarrow or fsspec knows: local folders, ``s3://``, ``gs://``, ``hdfs://``...

Why not a cloud SDK: ``pyarrow.fs`` already speaks S3, GCS and HDFS natively (and
Ray Data uses it), and fsspec covers the rest (``abfs://``, ``gcs://`` via gcsfs, ...)
through ``pyarrow.fs.FSSpecHandler``. Everything here takes a *location*: a plain
local path (relative or absolute) or a URI; local paths never go through URI
parsing, so spaces and odd characters in file names stay harmless.

Writes keep the project's rule: a reader never sees half an output. Locally that is
``pixcut.atomic.write_atomic``; on an object store a PUT becomes visible only when
complete; elsewhere the bytes go to a hidden temporary name and are moved in place.
"""

from __future__ import annotations

import os
import posixpath
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from pixcut.atomic import write_atomic
from pixcut.errors import ImageError, OptionsError
from pixcut.imageio import MAX_INPUT_BYTES

#: Filesystems whose single-object writes are atomic by nature (the object appears when the upload completes).
_OBJECT_STORES = frozenset({"s3", "gcs"})

_cache: dict[str, pafs.FileSystem] = {}
_cache_lock = threading.Lock()


def is_uri(location: str) -> bool:
    """True for ``scheme://...`` (a one-letter scheme is a Windows drive, not a URI)."""
    scheme = urlsplit(location).scheme
    return len(scheme) > 1 and "://" in location


@dataclass(frozen=True)
class Place:
    """A location resolved to a filesystem and the path that filesystem understands."""

    fs: pafs.FileSystem
    path: str
    location: str  # as the user wrote it (absolute for local paths): what events and the manifest show

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def child(self, relative: str) -> Place:
        """The place ``relative`` (a '/'-separated path) below this one."""
        relative = relative.strip("/")
        if self.is_local and not is_uri(self.location):
            joined = os.path.join(self.location, *relative.split("/"))
            return Place(self.fs, joined, joined)
        return Place(self.fs, posixpath.join(self.path, relative), self.location.rstrip("/") + "/" + relative)


def resolve(location: str) -> Place:
    """The filesystem and path for a local path or a URI; an unknown scheme is an ``OptionsError``."""
    if not is_uri(location):
        absolute = os.path.abspath(location)
        return Place(_filesystem("local", lambda: pafs.LocalFileSystem()), absolute, absolute)
    parts = urlsplit(location)
    key = f"{parts.scheme}://{parts.netloc}"
    try:
        fs, path = pafs.FileSystem.from_uri(location)
    except (ValueError, NotImplementedError):  # pyarrow's ArrowInvalid / ArrowNotImplementedError: try fsspec
        return _fsspec_place(location, key)
    if isinstance(fs, pafs.LocalFileSystem):
        return Place(fs, path, location)
    return Place(_filesystem(key, lambda: fs), path, location)


def _fsspec_place(location: str, key: str) -> Place:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec comes with ray[data]
        raise OptionsError(f"{location}: pyarrow does not know this scheme and fsspec is not installed") from None
    try:
        spec_fs, path = fsspec.core.url_to_fs(location)
    except (ImportError, ValueError) as exc:
        raise OptionsError(f"{location}: no filesystem for this scheme ({exc})") from None
    fs = _filesystem(key, lambda: pafs.PyFileSystem(pafs.FSSpecHandler(spec_fs)))
    return Place(fs, path, location)


def _filesystem(key: str, make: Callable[[], pafs.FileSystem]) -> pafs.FileSystem:
    """One filesystem object per scheme and host per process (S3 clients are costly to build)."""
    with _cache_lock:
        fs = _cache.get(key)
        if fs is None:
            fs = make()
            _cache[key] = fs
        return fs


def list_files(place: Place, recursive: bool) -> list[Place]:
    """Files below a folder place, sorted by path."""
    selector = pafs.FileSelector(place.path, recursive=recursive, allow_not_found=False)
    infos = [info for info in place.fs.get_file_info(selector) if info.type == pafs.FileType.File]
    base = place.path.rstrip("/")
    found = []
    for info in sorted(infos, key=lambda i: i.path):
        relative = info.path[len(base) :].lstrip("/") if info.path.startswith(base) else info.base_name
        found.append(place.child(relative))
    return found


def kind(place: Place) -> str:
    """'file', 'dir' or 'missing'."""
    info = place.fs.get_file_info(place.path)
    if info.type == pafs.FileType.Directory:
        return "dir"
    if info.type == pafs.FileType.File:
        return "file"
    return "missing"


def read_bytes(place: Place, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes, its size checked before anything is allocated; failures are ``ImageError``."""
    try:
        info = place.fs.get_file_info(place.path)
        if info.type != pafs.FileType.File:
            raise ImageError(f"cannot read {place.location!r}: no such file")
        if info.size is not None and info.size > limit:
            raise ImageError(f"{place.location}: {info.size:,} bytes is more than the {limit:,} an input may have")
        with place.fs.open_input_stream(place.path) as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise ImageError(f"cannot read {place.location!r}: {exc}") from None
    if len(data) > limit:
        raise ImageError(f"{place.location}: more than the {limit:,} bytes an input may have")
    return bytes(data)


def write_bytes(place: Place, data: bytes) -> None:
    """Write so that no reader ever sees a partial file (see the module docstring)."""
    if place.is_local:
        write_atomic(place.path, data)
        return
    parent = posixpath.dirname(place.path)
    if parent:
        place.fs.create_dir(parent, recursive=True)
    if place.fs.type_name in _OBJECT_STORES:
        with place.fs.open_output_stream(place.path) as stream:
            stream.write(data)
        return
    temporary = posixpath.join(parent, f".{posixpath.basename(place.path)}.{uuid.uuid4().hex}.part")
    try:
        with place.fs.open_output_stream(temporary) as stream:
            stream.write(data)
        place.fs.move(temporary, place.path)
    except BaseException:
        try:
            place.fs.delete_file(temporary)
        except OSError:
            pass
        raise


def delete(place: Place) -> None:
    try:
        place.fs.delete_file(place.path)
    except FileNotFoundError:
        pass

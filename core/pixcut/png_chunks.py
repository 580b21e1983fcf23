"""Walking a PNG's chunk list without decoding it: (type, data span) from the length fields.

Two readers need it: ``png_writer`` takes the metadata chunks of a PNG Pillow just wrote, and
``imageio`` looks for an eXIf chunk that follows the pixel data. Pillow only reports such a
chunk after decoding every pixel (``PngImageFile.getexif`` loads the image), which made the
server's header-only size check decode each uploaded PNG in full. The walk reads 8 bytes per
chunk and stops at IEND or at a chunk the data cannot hold, so a truncated or hostile file costs
nothing more than its chunk count.
"""

from __future__ import annotations

from collections.abc import Iterator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Chunks walked at most. The walk runs on the server's event loop (its size check) at about
#: 0.4 us per chunk, and a hostile file can be nothing but empty chunks (12 bytes each); real PNGs
#: have a few dozen, or one per 8 KB of pixel data from libpng (32,768 for the largest input,
#: 256 MB). A longer list counts as having no more chunks: no EXIF orientation, as in a file without it.
MAX_CHUNKS = 65_536


def iter_chunks(png: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk's data in ``png``, up to IEND, the first truncated chunk
    or MAX_CHUNKS chunks."""
    pos = len(PNG_SIGNATURE)
    for _ in range(MAX_CHUNKS):
        if pos + 12 > len(png):
            return
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        start = pos + 8
        end = start + length
        if end + 4 > len(png):  # the data and its CRC are not all there
            return
        yield kind, start, end
        if kind == b"IEND":
            return
        pos = end + 4


def find_chunk(png: bytes, kind: bytes) -> bytes | None:
    """The data of the first ``kind`` chunk, or None (also for data that is not a PNG)."""
    if not png.startswith(PNG_SIGNATURE):
        return None
    for found, start, end in iter_chunks(png):
        if found == kind:
            return png[start:end]
    return None

"""``pixcut remove - -o -``: one image from standard input, the result to standard output.

So ``curl -s URL | pixcut remove - -o - | magick - ...`` works. Standard output then
carries only the image bytes: ``--json`` events (and the human messages, as always) go
to standard error. Standard input is read up to ``imageio.MAX_INPUT_BYTES`` and no further,
so a runaway producer cannot exhaust memory; the 32-megapixel limit is then checked
from the image header as for files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pixcut.batch import BatchItem
from pixcut.errors import ImageError, OptionsError
from pixcut.imageio import MAX_INPUT_BYTES

STDIO = "-"


def is_stdio(path: str | Path | None) -> bool:
    return path is not None and str(path) == STDIO


def plan_stdio(inputs: list[str], output: str | None, out_dir: str | None) -> list[BatchItem] | None:
    """The single item of a pipe run, or None when neither end is '-'. Misuse is an OptionsError."""
    reads_stdin = STDIO in inputs
    if not reads_stdin and not is_stdio(output):
        return None
    if reads_stdin and len(inputs) != 1:
        raise OptionsError("'-' (standard input) must be the only input")
    if is_stdio(output) and len(inputs) != 1:
        raise OptionsError("-o - (standard output) takes a single input")
    if reads_stdin and output is None:
        raise OptionsError(
            "reading standard input ('-') needs -o FILE or -o - (standard output); --out-dir has no name"
        )
    assert output is not None
    if not reads_stdin:
        return None  # a file to standard output: the normal planning applies
    return [BatchItem(Path(STDIO), Path(output))]


def read_stdin(limit: int = MAX_INPUT_BYTES) -> bytes:
    """All of standard input, refused (one line) beyond ``limit`` bytes, when empty or a terminal."""
    if sys.stdin.isatty():
        raise OptionsError("'-' reads an image from standard input, which is a terminal here: pipe a file in")
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"standard input is larger than {limit:,} bytes; pass a file instead")
    if not data:
        raise ImageError("Failed to read the supplied image: standard input is empty")
    return data


def write_stdout(data: bytes) -> None:
    """The result bytes, and nothing else, on standard output."""
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()

"""The request form -> the image bytes and the ``RemovalOptions``.

Parameters are parsed only by ``RemovalOptions.from_form`` (the core's single
parser, which also rejects unknown fields). This module adds what is specific to
HTTP: a field may not repeat, exactly one of ``image`` / ``image.base64`` /
``image.url`` must be present, base64 is decoded under the API's 1 MB limit, and
URLs are fetched only when the server allows it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from pixcut.backends import BASE64_LIMIT
from pixcut.errors import ImageError, MissingInputError, OptionsError
from pixcut.options import INPUT_FIELDS, RemovalOptions


@dataclass
class RequestInput:
    """The one input a request named; ``data`` is None until a URL has been fetched."""

    field: str
    data: bytes | None = None
    url: str | None = None
    filename: str = "image"


def parse_options(form: FormData) -> RemovalOptions:
    """Every non-input field through the core parser; repeated or file-valued parameters are refused."""
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in INPUT_FIELDS:
            continue
        if name in values:
            raise OptionsError(f"{name}: given more than once")
        if not isinstance(value, str):
            raise OptionsError(f"{name}: expected a text value, got a file part")
        values[name] = value
    return RemovalOptions.from_form(values)


async def parse_input(form: FormData) -> RequestInput:
    """Exactly one input field, read (file part) or decoded (base64); a URL is left to the caller."""
    given = [(name, value) for name, value in form.multi_items() if name in INPUT_FIELDS]
    if not given:
        raise MissingInputError(
            "No image given: send one of 'image' (a file part), 'image.base64' or 'image.url'", status=400
        )
    if len(given) > 1:
        names = ", ".join(name for name, _ in given)
        raise MissingInputError(f"Give exactly one of 'image', 'image.base64' or 'image.url' (got {names})", status=400)
    name, value = given[0]
    if name == "image":
        if isinstance(value, UploadFile):
            return RequestInput(name, data=await value.read(), filename=value.filename or "image")
        return RequestInput(name, data=value.encode("utf-8", "surrogateescape"))
    if not isinstance(value, str):
        raise OptionsError(f"{name}: expected a text value, got a file part")
    if name == "image.base64":
        return RequestInput(name, data=decode_base64(value))
    url = value.strip()
    if not url:
        raise MissingInputError("image.url: empty URL", status=400)
    return RequestInput(name, url=url)


def decode_base64(text: str, *, field: str = "image.base64", limit: int = BASE64_LIMIT) -> bytes:
    """A base64 input (the API's ``image.base64``: at most 1,000,000 characters; remove.bg's
    ``image_file_b64`` passes its own ``field`` and ``limit``); whitespace is tolerated."""
    if len(text) > limit:
        raise OptionsError(
            f"{field}: {len(text):,} characters; at most {limit:,} are accepted. "
            f"Upload the image as a file part instead."
        )
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"Failed to read the supplied image: {field} is not valid base64") from None

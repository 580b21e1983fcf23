"""``POST /v1.0/removebg``: remove.bg's API on pixcut's engine, as an adapter.

Tools written for remove.bg (https://www.remove.bg/api, OpenAPI at
https://www.remove.bg/api/swagger.yaml) keep working against ``pixcut serve`` with
only the URL changed. This module translates; it implements no result semantics:

- each remove.bg parameter is parsed here and mapped onto ``RemovalOptions``
  (``size`` -> ``max_pixels``, ``crop``/``crop_margin`` -> crop + margin, ``scale`` and
  ``position`` -> crop + target size + an inset margin + vertical alignment,
  ``bg_color`` -> background colour, ``format`` -> output format, ``channels=alpha`` ->
  ``output="mask"``), and the removal itself is ``pixcut.api.remove_background`` with
  the server's backend under the server's limiter, exactly like the Pixian route;
- the result headers are read back from the typed ``RemovalResult`` (``X-Width``,
  ``X-Height``, ``X-Credits-Charged``, ``X-Foreground-*``), and ``Accept:
  application/json`` wraps the same bytes as ``{"data": {"result_b64": ...}}``;
- every error uses remove.bg's body ``{"errors": [{"title", "code", "detail"?}]}``;
  a parameter value pixcut cannot honour (a foreground ``type``, a partial ``roi``,
  ``format=zip``, shadows, background images...) is refused with that form, never
  silently ignored.

The API key is the server's configured credentials written ``ID:SECRET`` in
``X-Api-Key`` (compared in constant time by ``BasicAuth``); a server without
credentials is open, as for the Pixian route.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import ImageColor
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from pixcut.backends import ImageInput
from pixcut.errors import (
    AuthenticationError,
    ImageError,
    ImageTooLargeError,
    MissingInputError,
    OptionsError,
    PixcutError,
    RateLimitedError,
    RequestTooLargeError,
    ServerError,
    UnsupportedImageError,
)
from pixcut.imageio import downscaled_size, upright_size
from pixcut.options import MAX_MAX_PIXELS, ZERO_MARGIN, Margin, OutputFormat, RemovalOptions, parse_bool
from pixcut.result import RemovalResult
from pixcut.server.errors import (
    GENERIC_MESSAGE,
    OverloadedError,
    RouteError,
    UrlFetchDisabledError,
    UrlFetchError,
    UrlRefusedError,
    describe,
)
from pixcut.server.inputs import RequestInput, decode_base64

if TYPE_CHECKING:
    from pixcut.server.app import ServerState

REMOVEBG_PATH = "/v1.0/removebg"
logger = logging.getLogger("pixcut.server")
INPUT_NAMES = ("image_file", "image_file_b64", "image_url")

# size -> the largest result in pixels (remove.bg: preview 0.25 MP, medium 1.5 MP, hd 4 MP,
# full/auto up to 25 MP). "50MP" is refused: pixcut's input limit is 32 MP and max_pixels 25 MP.
SIZES: dict[str, int] = {
    "preview": 250_000,
    "small": 250_000,
    "regular": 250_000,
    "medium": 1_500_000,
    "hd": 4_000_000,
    "full": MAX_MAX_PIXELS,
    "4k": MAX_MAX_PIXELS,
    "auto": MAX_MAX_PIXELS,
}
FORMATS: dict[str, OutputFormat] = {"auto": "auto", "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
MAX_MARGIN_PERCENT = 50.0  # remove.bg: "at most 50% of the subject dimensions or 500 pixels" per side
MAX_MARGIN_PX = 500.0
# Parameters remove.bg documents that have no pixcut equivalent: accepted only at their no-op value.
NO_OP_VALUES: dict[str, tuple[str, ...]] = {
    "type": ("auto",),
    "type_level": ("none",),
    "semitransparency": ("true", "1"),
    "add_shadow": ("false", "0"),
}
UNSUPPORTED = ("bg_image_url", "bg_image_file", "shadow_type", "shadow_opacity", "shadow_method")
KNOWN = (
    *INPUT_NAMES,
    "size",
    "format",
    "bg_color",
    "crop",
    "crop_margin",
    "scale",
    "position",
    "channels",
    "roi",
    *NO_OP_VALUES,
    *UNSUPPORTED,
)

_HEX = re.compile(r"^#?([0-9A-Fa-f]{3,4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(px|%)?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)%$")


class RemoveBgError(PixcutError):
    """An error with remove.bg's code string (``invalid_size``, ``missing_source``...)."""

    def __init__(self, title: str, rb_code: str, status: int = 400, detail: str | None = None) -> None:
        super().__init__(title, status=status, code=None)
        self.rb_code = rb_code
        self.detail = detail


# -- parameters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """``scale``/``position``: the subject fitted into ``scale`` of the canvas at a vertical anchor."""

    scale: float  # 0.1..1.0 of the canvas
    anchor: str  # "top" | "middle" | "bottom"


@dataclass(frozen=True)
class Roi:
    """``roi`` as four (value, unit) corners; pixcut honours only the whole image."""

    corners: tuple[tuple[float, str], ...]


@dataclass
class RemoveBgRequest:
    """A parsed request: the pixcut options plus what needs the image's size to resolve."""

    options: RemovalOptions
    placement: Placement | None = None
    roi: Roi | None = None
    source: RequestInput = field(default_factory=lambda: RequestInput("image_file"))


def _text(values: Mapping[str, str], name: str, default: str) -> str:
    value = values.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def parse_size(value: str) -> int:
    pixels = SIZES.get(value.lower())
    if pixels is None:
        raise RemoveBgError(
            f"Invalid value for parameter 'size': {value!r} (pixcut serve takes {', '.join(SIZES)})", "invalid_size"
        )
    return pixels


def parse_format(value: str, channels: str) -> OutputFormat:
    fmt = FORMATS.get(value.lower())
    if value.lower() == "zip":
        raise RemoveBgError(
            "Invalid format parameter given: format=zip is not supported by pixcut serve; "
            "use png (colour and alpha in one file) or channels=alpha for the matte",
            "invalid_format",
        )
    if fmt is None:
        raise RemoveBgError(f"Invalid format parameter given: {value!r} (use auto, png, jpg or webp)", "invalid_format")
    if channels == "alpha" and fmt == "jpeg":
        raise RemoveBgError(
            "Invalid format parameter given: channels=alpha is returned as PNG or WebP, not jpg", "invalid_format"
        )
    return fmt


def parse_bg_color(value: str) -> str:
    """Hex (3, 4, 6 or 8 digits, '#' optional) or a CSS colour name -> '#RRGGBB'; no translucency."""
    text = value.strip()
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 8:
            if digits[6:].lower() != "ff":
                raise RemoveBgError(
                    "Invalid bg_color parameter given: semi-transparent background colours are not supported "
                    "by pixcut serve; give an opaque colour",
                    "invalid_bg_color",
                )
            digits = digits[:6]
        return "#" + digits.upper()
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise RemoveBgError(
            f"Invalid bg_color parameter given: {value!r} (a hex code like 81d4fa or a colour name like green)",
            "invalid_bg_color",
        ) from None
    if len(rgb) == 4 and rgb[3] != 255:
        raise RemoveBgError("Invalid bg_color parameter given: only opaque colours are supported", "invalid_bg_color")
    return "#{:02X}{:02X}{:02X}".format(*rgb[:3])


def parse_crop_margin(value: str) -> str:
    """1, 2 or 4 lengths (px, % of the subject, or a bare number of px), each at most 50% / 500 px."""
    parts = value.split()
    if len(parts) not in (1, 2, 4):
        raise RemoveBgError(
            f"Invalid crop_margin parameter given: {value!r} (one, two or four values like 30px or 10%)",
            "invalid_crop_margin",
        )
    lengths: list[str] = []
    for part in parts:
        match = _LENGTH.match(part.lower())
        if not match:
            raise RemoveBgError(f"Invalid crop_margin parameter given: {part!r}", "invalid_crop_margin")
        number, unit = float(match.group(1)), match.group(2) or "px"
        if number > (MAX_MARGIN_PERCENT if unit == "%" else MAX_MARGIN_PX):
            raise RemoveBgError(
                f"Invalid crop_margin parameter given: {part!r} is more than 50% of the subject or 500px",
                "invalid_crop_margin",
            )
        lengths.append(f"{number:g}{unit}")
    return " ".join(lengths)


def _percent(text: str, name: str, code: str) -> float:
    match = _PERCENT.match(text)
    if not match:
        raise RemoveBgError(f"Invalid {name} parameter given: {text!r}", code)
    return float(match.group(1))


def parse_placement(scale_text: str, position_text: str) -> Placement | None:
    """``scale`` (10%..100% or original) and ``position`` (original, center, 'X%' or 'X% Y%').

    pixcut centres the subject horizontally and anchors it top, middle or bottom, so
    position takes a horizontal 50% and a vertical 0%, 50% or 100%; anything else is refused.
    """
    scale_text, position_text = scale_text.lower(), position_text.lower()
    if scale_text == "original":
        if position_text not in ("original", ""):
            raise RemoveBgError(
                "Invalid position parameter given: pixcut serve positions the subject only together with scale "
                "(e.g. scale=80%)",
                "invalid_position",
            )
        return None
    scale = _percent(scale_text, "scale", "invalid_scale")
    if not 10 <= scale <= 100:
        raise RemoveBgError(f"Invalid scale parameter given: {scale_text!r} (10% to 100%)", "invalid_scale")
    if position_text in ("", "original", "center"):
        return Placement(scale / 100.0, "middle")
    parts = position_text.split()
    if len(parts) not in (1, 2):
        raise RemoveBgError(f"Invalid position parameter given: {position_text!r}", "invalid_position")
    horizontal = _percent(parts[0], "position", "invalid_position")
    vertical = _percent(parts[-1], "position", "invalid_position")
    anchors = {0.0: "top", 50.0: "middle", 100.0: "bottom"}
    if horizontal != 50 or vertical not in anchors:
        raise RemoveBgError(
            f"Invalid position parameter given: {position_text!r}; pixcut serve centres the subject horizontally "
            f"(50%) and places it at the top (0%), middle (50%) or bottom (100%)",
            "invalid_position",
        )
    return Placement(scale / 100.0, anchors[vertical])


def parse_roi(value: str) -> Roi | None:
    """``x1 y1 x2 y2`` in px or % (a bare number is px: clients send '0 0 100% 100%'); None for the default."""
    parts = value.split()
    if len(parts) != 4:
        raise RemoveBgError(f"Invalid roi parameter given: {value!r} (x1 y1 x2 y2 in px or %)", "invalid_roi")
    corners: list[tuple[float, str]] = []
    for part in parts:
        match = _LENGTH.match(part.lower())
        if not match:
            raise RemoveBgError(f"Invalid roi parameter given: {part!r} (px or %)", "invalid_roi")
        corners.append((float(match.group(1)), match.group(2) or "px"))  # a bare number is pixels, as 0 is
    roi = Roi(tuple(corners))
    if roi.corners == ((0.0, "%"), (0.0, "%"), (100.0, "%"), (100.0, "%")):
        return None
    return roi


def check_roi(roi: Roi, size: tuple[int, int]) -> None:
    """Bounds and emptiness as remove.bg reports them; then the honest refusal of a partial region."""
    width, height = size
    box = [v * (size[i % 2] / 100.0) if unit == "%" else v for i, (v, unit) in enumerate(roi.corners)]
    x1, y1, x2, y2 = box
    if x2 > width or y2 > height or (roi.corners[2][1] == "%" and roi.corners[2][0] > 100):
        raise RemoveBgError(
            "ROI exceeds image bounds",
            "roi_exceeds_bounds",
            detail="The given roi parameter defines a region that exceeds the image bounds",
        )
    if x2 <= x1 or y2 <= y1:
        raise RemoveBgError(
            "ROI region is empty", "roi_region_empty", detail="The given roi parameter defines an empty region"
        )
    if (x1, y1) != (0, 0) or (round(x2), round(y2)) != (width, height):
        raise RemoveBgError(
            "Invalid roi parameter given: pixcut serve looks for the foreground in the whole image only "
            "(roi=0% 0% 100% 100%)",
            "invalid_roi",
        )


def parse_parameters(values: Mapping[str, str]) -> RemoveBgRequest:
    """Every non-input field -> ``RemovalOptions`` (+ placement/roi); refusals in remove.bg's form."""
    for name in values:
        if name not in KNOWN:
            raise RemoveBgError(f"Unknown parameter {name!r}", "unknown_parameter")
        if name in UNSUPPORTED:
            raise RemoveBgError(
                f"Parameter {name!r} is not supported by pixcut serve (no background images or shadows)",
                "unsupported_parameter",
            )
    for name, allowed in NO_OP_VALUES.items():
        given = _text(values, name, allowed[0]).lower()
        if given not in allowed:
            raise RemoveBgError(
                f"Invalid value for parameter '{name}': {given!r}; pixcut's offline model accepts only "
                f"{name}={allowed[0]}",
                f"invalid_{name}",
            )
    channels = _text(values, "channels", "rgba").lower()
    if channels not in ("rgba", "alpha"):
        raise RemoveBgError("Invalid value for parameter 'channels' (rgba or alpha)", "invalid_channels")
    max_pixels = parse_size(_text(values, "size", "preview"))
    output_format = parse_format(_text(values, "format", "auto"), channels)
    bg_text = _text(values, "bg_color", "")
    background = parse_bg_color(bg_text) if bg_text else None
    if background and channels == "alpha":
        raise RemoveBgError(
            "Invalid bg_color parameter given: channels=alpha returns the matte, which has no background",
            "invalid_bg_color",
        )
    try:
        crop = parse_bool("crop", _text(values, "crop", "false"))
    except OptionsError as exc:
        raise RemoveBgError(f"Invalid crop parameter given: {exc.message}", "invalid_crop") from None
    margin = parse_crop_margin(_text(values, "crop_margin", "0"))
    placement = parse_placement(_text(values, "scale", "original"), _text(values, "position", "original"))
    if placement is not None and crop:
        raise RemoveBgError(
            "Invalid scale parameter given: scale places the subject on the full canvas, so it cannot be combined "
            "with crop=true",
            "invalid_scale",
        )
    roi = parse_roi(_text(values, "roi", "0% 0% 100% 100%"))
    try:
        options = RemovalOptions(
            max_pixels=max_pixels,
            background_color=background,
            crop_to_foreground=crop,
            margin=Margin.parse(margin) if crop else ZERO_MARGIN,  # remove.bg: crop_margin acts only with crop
            output_format=output_format,
            output="mask" if channels == "alpha" else "cutout",
        )
    except OptionsError as exc:
        raise RemoveBgError(f"Invalid parameters: {exc.message}", "invalid_parameters") from None
    return RemoveBgRequest(options=options, placement=placement, roi=roi)


def resolve_options(request: RemoveBgRequest, data: bytes) -> RemovalOptions:
    """The options once the image's size is known (``scale``/``position``, a pixel ``roi``).

    ``scale`` keeps the canvas the result would have had (the upright input, downscaled
    to ``size``) and fits the subject into ``scale`` of it: crop to the foreground, the
    canvas as target size, and the free space as an inset margin on the anchored sides.
    Runs in a worker thread; reading the size is header-only (``pixcut.imageio``).
    """
    options = request.options
    if request.placement is None and request.roi is None:
        return options
    upright = upright_size(data)
    if request.roi is not None:
        check_roi(request.roi, upright)  # roi is in the input's pixels, before the size limit
    placement = request.placement
    if placement is None:
        return options
    size = downscaled_size(upright, options.max_pixels)
    free = (1.0 - placement.scale) * 100.0
    side = f"{free / 2:g}%"
    top, bottom = {"top": ("0%", f"{free:g}%"), "middle": (side, side), "bottom": (f"{free:g}%", "0%")}[
        placement.anchor
    ]
    return options.replace(
        crop_to_foreground=True,
        target_size=size,
        margin=Margin.parse(f"{top} {side} {bottom} {side}"),
        vertical_alignment=placement.anchor,
    )


# -- inputs -----------------------------------------------------------------------------------


def _form_values(items: list[tuple[str, str | UploadFile]]) -> tuple[dict[str, str], list[tuple[str, object]]]:
    values: dict[str, str] = {}
    inputs: list[tuple[str, object]] = []
    for name, value in items:
        if name in INPUT_NAMES:
            inputs.append((name, value))
            continue
        if name in values:
            raise RemoveBgError(f"Parameter {name!r} given more than once", "invalid_parameters")
        if isinstance(value, UploadFile):
            if name == "bg_image_file":
                raise RemoveBgError(
                    "Parameter 'bg_image_file' is not supported by pixcut serve", "unsupported_parameter"
                )
            raise RemoveBgError(f"Parameter {name!r}: expected a text value, got a file", "invalid_parameters")
        values[name] = value
    return values, inputs


async def _read_input(inputs: list[tuple[str, object]], body_limit: int) -> RequestInput:
    if not inputs:
        raise RemoveBgError(
            "No image given",
            "missing_source",
            detail="Please provide the source image in the image_url, image_file or image_file_b64 parameter.",
        )
    if len(inputs) > 1:
        raise RemoveBgError(
            "Multiple image sources given: Please provide either the image_url, image_file or image_file_b64 "
            "parameter.",
            "multiple_sources",
        )
    name, value = inputs[0]
    if name == "image_file":
        if isinstance(value, UploadFile):
            return RequestInput(name, data=await value.read(), filename=value.filename or "image")
        if isinstance(value, str):
            return RequestInput(name, data=value.encode("utf-8", "surrogateescape"))
    if not isinstance(value, str):
        raise RemoveBgError(f"Parameter {name!r}: expected a text value, got a file", "invalid_parameters")
    if name == "image_file_b64":
        return RequestInput(name, data=decode_base64(value, field=name, limit=body_limit * 4 // 3 + 4))
    url = value.strip()
    if not url:
        raise RemoveBgError("Invalid image_url: Please provide a valid URL.", "invalid_image_url")
    return RequestInput(name, url=url)


def _json_scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise RemoveBgError(f"Parameter {name!r}: expected a string, number or boolean", "invalid_parameters")


async def parse_request(request: Request, body_limit: int) -> RemoveBgRequest:
    """Multipart, url-encoded or JSON (all three are in remove.bg's reference) -> a parsed request."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise RemoveBgError("The JSON request body could not be parsed", "invalid_parameters") from None
        if not isinstance(body, dict):
            raise RemoveBgError("The JSON request body must be an object", "invalid_parameters")
        items: list[tuple[str, str | UploadFile]] = [(str(k), _json_scalar(str(k), v)) for k, v in body.items()]
        values, inputs = _form_values(items)
        parsed = parse_parameters(values)  # a bad parameter is refused before the image is looked at
        parsed.source = await _read_input(inputs, body_limit)
        return parsed
    async with request.form(max_files=2, max_fields=64, max_part_size=body_limit) as form:
        values, inputs = _form_values(list(form.multi_items()))
        parsed = parse_parameters(values)
        parsed.source = await _read_input(inputs, body_limit)
    return parsed


# -- responses --------------------------------------------------------------------------------


def result_headers(result: RemovalResult) -> dict[str, str]:
    """remove.bg's result headers from the typed result (no X-Type: the model does not classify)."""
    info = result.info
    headers = {"X-Credits-Charged": f"{info.credits_charged or 0:g}"}
    if info.result_size is not None:
        headers["X-Width"], headers["X-Height"] = (str(v) for v in info.result_size)
    box = info.result_foreground
    if box is not None:
        headers.update(
            {
                "X-Foreground-Top": str(box.top),
                "X-Foreground-Left": str(box.left),
                "X-Foreground-Width": str(box.width),
                "X-Foreground-Height": str(box.height),
            }
        )
    return headers


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(part.split(";", 1)[0].strip().lower() == "application/json" for part in accept.split(","))


def success_response(result: RemovalResult, as_json: bool) -> Response:
    headers = result_headers(result)
    if not as_json:
        return Response(content=result.data, media_type=result.content_type, headers=headers)
    data: dict[str, object] = {"result_b64": base64.b64encode(result.data).decode("ascii")}
    box = result.info.result_foreground
    if box is not None:
        data.update(
            foreground_top=box.top, foreground_left=box.left, foreground_width=box.width, foreground_height=box.height
        )
    return JSONResponse({"data": data}, headers=headers)


def translate(exc: PixcutError) -> tuple[int, str, str, str | None, dict[str, str]]:
    """(status, remove.bg code, title, detail, headers) for any error the request can meet."""
    if isinstance(exc, RemoveBgError):
        return exc.status or 400, exc.rb_code, exc.message, exc.detail, {}
    status, _code, message, headers = describe(exc)
    headers.pop("WWW-Authenticate", None)
    table: list[tuple[type[PixcutError], int, str]] = [
        (AuthenticationError, 403, "auth_failed"),
        (OverloadedError, 429, "rate_limit_exceeded"),
        (RateLimitedError, 429, "rate_limit_exceeded"),
        (RequestTooLargeError, 400, "file_too_large"),
        (MissingInputError, 400, "missing_source"),
        (UrlFetchDisabledError, 400, "invalid_image_url"),
        (UrlRefusedError, 400, "invalid_image_url"),
        (UrlFetchError, 400, "failed_image_download"),
        (OptionsError, 400, "invalid_parameters"),
        (ImageTooLargeError, 400, "resolution_too_high"),
        (UnsupportedImageError, 400, "invalid_file_type"),
        (ImageError, 400, "failed_to_read_image"),
        (RouteError, status, "not_found" if status == 404 else "method_not_allowed"),
    ]
    for kind, rb_status, code in table:
        if isinstance(exc, kind):
            return rb_status, code, message, None, headers
    return status, "internal_error" if status >= 500 else "error", message, None, headers


def error_response(exc: PixcutError) -> JSONResponse:
    """remove.bg's error body: ``{"errors": [{"title", "code", "detail"?}]}``."""
    status, code, title, detail, headers = translate(exc)
    entry: dict[str, str] = {"title": title, "code": code}
    if detail:
        entry["detail"] = detail
    return JSONResponse({"errors": [entry]}, status_code=status, headers=headers)


# -- the route --------------------------------------------------------------------------------


def unknown_foreground() -> RemoveBgError:
    return RemoveBgError(
        "Could not identify foreground in image. For details and recommendations see "
        "https://www.remove.bg/supported-images.",
        "unknown_foreground",
    )


def add_routes(app: FastAPI, state: ServerState) -> None:
    """Register ``POST /v1.0/removebg`` (and remove.bg-form answers for other methods)."""
    from pixcut.server.app import http_error, remove_limited

    @app.post(REMOVEBG_PATH, tags=["remove.bg compatible"], openapi_extra=_openapi_body())
    async def removebg(request: Request) -> Response:
        """remove.bg's ``POST /v1.0/removebg`` (multipart, url-encoded or JSON; ``X-Api-Key``)."""
        try:
            parsed = await parse_request(request, state.config.max_body_bytes)
            result = await remove_limited(
                state, parsed.source, parsed.options, adapt=lambda image: resolve_options(parsed, _data(image))
            )
            if result.info.result_foreground is None:
                raise unknown_foreground()
            return success_response(result, wants_json(request))
        except PixcutError as exc:
            return error_response(exc)
        except StarletteHTTPException as exc:
            return error_response(http_error(exc))
        except Exception:
            logger.exception("unexpected error in %s", REMOVEBG_PATH)
            return error_response(ServerError(GENERIC_MESSAGE, status=500, code=1000))

    @app.api_route(REMOVEBG_PATH, methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def removebg_wrong_method(request: Request) -> Response:
        return error_response(RouteError(f"{request.method} is not allowed; use POST", status=405))


def _openapi_body() -> dict[str, object]:
    """The form for /docs (the route parses it itself; see docs/server.md for each field)."""
    properties: dict[str, object] = {name: {"type": "string"} for name in KNOWN if name != "image_file"}
    properties["image_file"] = {"type": "string", "format": "binary"}
    schema = {"type": "object", "properties": properties}
    content = {kind: {"schema": schema} for kind in ("multipart/form-data", "application/json")}
    return {"requestBody": {"required": True, "content": content}}


def _data(image: ImageInput) -> bytes:
    if image.data is None:  # remove_limited always hands over bytes (a URL is fetched first)
        raise ImageError("Failed to read the supplied image: no data")
    return image.data


__all__ = [
    "REMOVEBG_PATH",
    "RemoveBgError",
    "add_routes",
    "error_response",
    "parse_parameters",
    "resolve_options",
]

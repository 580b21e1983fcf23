"""Formats and fidelity on real files the tests write with Pillow's plug-ins.

Inputs WebP, AVIF (Pillow's codecs) and HEIC (read by pi-heif; written here by pillow-heif, a test
dependency, as pi-heif has no encoder); a JPEG with an embedded
Display P3-like profile; a CMYK JPEG with a CMYK profile; EXIF/XMP kept or stripped;
WebP output; the cloud's PNG conversion (a real HTTP server on 127.0.0.1 plays the
service). Offline cases run the real ONNX engine.
"""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from icc_profiles import cmyk_press_like, display_p3_like
from PIL import Image, ImageCms
from support import Canned, cutout_with_box, make_photo, png_bytes

from pixcut import remove_background
from pixcut.backends import BackendSettings, create_backend
from pixcut.credentials import Credentials
from pixcut.delta_png import encode_delta
from pixcut.errors import UnsupportedImageError
from pixcut.imageio import SRGB_ICC, load_input

P3 = display_p3_like()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def write(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    if fmt == "WEBP":
        params.setdefault("lossless", True)
    if fmt == "HEIF":
        params.setdefault("quality", -1)  # pillow-heif: lossless
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "pixcut-test-camera"
    return exif.tobytes()


def pixcut(*args, stdin=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *map(str, args)], capture_output=True, timeout=timeout, input=stdin
    )


def events(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]


def opaque_pixels_equal(result: Image.Image, source: Image.Image) -> int:
    """How many fully opaque result pixels there are; asserts each equals the source pixel."""
    out = np.asarray(result.convert("RGBA"))
    src = np.asarray(source.convert("RGB"))
    opaque = out[..., 3] == 255
    assert opaque.sum() > 100, "the test photo must have a solid foreground"
    assert np.array_equal(out[..., :3][opaque], src[opaque])
    return int(opaque.sum())


# -- inputs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, suffix", [("WEBP", ".webp"), ("AVIF", ".avif"), ("HEIF", ".heic")])
def test_new_input_formats_offline_through_the_api(tmp_path, fmt, suffix):
    path = tmp_path / f"photo{suffix}"
    path.write_bytes(write(make_photo((160, 120)), fmt))
    result = remove_background(path)
    assert result.format == "png"
    assert result.image.size == (160, 120)
    assert result.info.input_size == (160, 120)
    assert result.image.getchannel("A").getextrema() == (0, 255)


def test_folder_scan_picks_up_webp_avif_heic_through_the_cli(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    photo = make_photo((96, 72))
    for fmt, name in [("WEBP", "a.webp"), ("AVIF", "b.avif"), ("HEIF", "c.heic"), ("HEIF", "d.HEIF"), ("PNG", "e.png")]:
        (src / name).write_bytes(write(photo, fmt))
    (src / "notes.txt").write_text("not an image")
    proc = pixcut("remove", src, "--out-dir", out, "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc)
    assert evs[0]["total"] == 5
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png", "d.png", "e.png"]
    assert evs[-1]["done"] == 5 and evs[-1]["failed"] == 0


def test_multi_frame_files_give_their_first_frame():
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((200, 30, 40), (30, 200, 40), (30, 40, 200))]
    for fmt in ("GIF", "WEBP", "TIFF"):
        buffer = io.BytesIO()
        frames[0].save(
            buffer, fmt, save_all=True, append_images=frames[1:], **({"lossless": True} if fmt == "WEBP" else {})
        )
        loaded = load_input(buffer.getvalue())
        red, green, blue = loaded.image.convert("RGB").getpixel((5, 5))
        assert red > 150 and green < 100 and blue < 100, fmt


def test_unsupported_file_keeps_the_one_line_error_with_the_api_code(tmp_path):
    path = tmp_path / "picture.pcx"
    make_photo((30, 20)).save(path, "PCX")
    with pytest.raises(UnsupportedImageError) as info:
        remove_background(path)
    assert info.value.code == 1007 and "PCX" in info.value.message
    proc = pixcut("remove", path, "-o", tmp_path / "o.png", "--json")
    assert proc.returncode == 1
    error = next(e for e in events(proc) if e["event"] == "error")
    assert error["error"]["code"] == 1007 and "\n" not in error["error"]["message"]
    garbage = tmp_path / "broken.heic"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40)
    proc = pixcut("remove", garbage, "-o", tmp_path / "g.png", "--json")
    error = next(e for e in events(proc) if e["event"] == "error")
    assert error["error"]["status"] == 400 and error["error"]["code"] in (1006, 1007)


# -- colour -------------------------------------------------------------------------------------------


@pytest.fixture
def p3_jpeg(tmp_path):
    path = tmp_path / "p3.jpg"
    path.write_bytes(write(make_photo((160, 120)), "JPEG", quality=95, icc_profile=P3))
    return path


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_p3_photo_keeps_its_profile_and_pixels_through_the_api(p3_jpeg, fmt):
    result = remove_background(p3_jpeg, output_format=fmt)
    decoded = Image.open(io.BytesIO(result.data))
    assert decoded.info.get("icc_profile") == P3
    source = Image.open(p3_jpeg)
    assert opaque_pixels_equal(decoded, source) > 100


def test_p3_photo_as_jpeg_output_carries_the_profile(p3_jpeg):
    result = remove_background(p3_jpeg, background_color="#FFFFFF", jpeg_quality=95)
    assert result.format == "jpeg"
    assert Image.open(io.BytesIO(result.data)).info.get("icc_profile") == P3


def test_p3_photo_through_the_cli_keeps_profile_and_pixels(p3_jpeg, tmp_path):
    out = tmp_path / "cut.png"
    proc = pixcut("remove", p3_jpeg, "-o", out, "--crop-to-foreground")
    assert proc.returncode == 0, proc.stderr.decode()
    cut = Image.open(out)
    assert cut.info.get("icc_profile") == P3
    source = Image.open(p3_jpeg)
    box = remove_background(p3_jpeg).info.result_foreground
    source = source.crop((box.left, box.top, box.left + box.width, box.top + box.height))
    assert opaque_pixels_equal(cut, source) > 100


def test_p3_profile_survives_the_delta_png_rebuild(scripted, p3_jpeg):
    source = Image.open(p3_jpeg)
    served = cutout_with_box(source.size, (40, 30, 120, 90))
    scripted.responses = [Canned(200, encode_delta(served), {"Content-Type": "image/png", "X-Input-Size": "160 120"})]
    cloud = create_backend("pixian", BackendSettings(endpoint=scripted.url, credentials=Credentials("i", "s")))
    result = remove_background(p3_jpeg, backend=cloud, delta=True)
    decoded = Image.open(io.BytesIO(result.data))
    assert decoded.info.get("icc_profile") == P3
    assert opaque_pixels_equal(decoded, source) == 80 * 60


def test_cmyk_jpeg_is_converted_through_its_profile(tmp_path):
    cmyk = Image.new("CMYK", (160, 120), (10, 20, 30, 0))
    cmyk.paste((0, 210, 200, 20), (50, 30, 110, 90))  # a red object on pale paper
    path = tmp_path / "cmyk.jpg"
    path.write_bytes(write(cmyk, "JPEG", quality=95, icc_profile=cmyk_press_like()))
    decoded_cmyk = Image.open(path)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(cmyk_press_like()))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    expected = ImageCms.profileToProfile(
        decoded_cmyk, profile, srgb, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
    )
    naive = decoded_cmyk.convert("RGB")
    assert expected.getpixel((80, 60)) != naive.getpixel((80, 60))  # the profile matters for this file

    loaded = load_input(path.read_bytes())
    assert loaded.image.tobytes() == expected.tobytes()
    assert loaded.metadata.icc_profile == SRGB_ICC
    result = remove_background(path)
    out = Image.open(io.BytesIO(result.data))
    assert out.info.get("icc_profile") == SRGB_ICC  # the pixels are sRGB now, and say so
    opaque_pixels_equal(out, expected)


# -- metadata -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_metadata_is_stripped_by_default_and_kept_with_orientation_1(tmp_path, fmt):
    path = tmp_path / "rotated.jpg"
    path.write_bytes(write(make_photo((80, 60)), "JPEG", exif=exif_bytes(6), xmp=XMP, icc_profile=P3))
    plain = Image.open(io.BytesIO(remove_background(path, output_format=fmt).data))
    assert plain.size == (60, 80)  # upright
    assert not plain.getexif() and not plain.info.get("xmp") and not plain.info.get("XML:com.adobe.xmp")
    assert plain.info.get("icc_profile") == P3  # the profile is colour, not metadata: always kept
    kept = Image.open(io.BytesIO(remove_background(path, output_format=fmt, keep_metadata=True).data))
    exif = kept.getexif()
    assert exif[0x0112] == 1 and exif[0x010F] == "pixcut-test-camera"
    xmp = kept.info.get("xmp") or kept.info.get("XML:com.adobe.xmp")
    assert xmp and b"adobe:ns:meta" in (xmp if isinstance(xmp, bytes) else xmp.encode())


def test_keep_metadata_flag_through_the_cli(tmp_path):
    path = tmp_path / "in.webp"
    path.write_bytes(write(make_photo((80, 60)), "WEBP", exif=exif_bytes(8)))
    out = tmp_path / "out.webp"
    proc = pixcut("remove", path, "-o", out, "--format", "webp", "--keep-metadata")
    assert proc.returncode == 0, proc.stderr.decode()
    assert Image.open(out).getexif()[0x0112] == 1


# -- outputs ------------------------------------------------------------------------------------------


def test_webp_output_is_lossless_by_default_and_lossy_with_a_quality(tmp_path):
    photo = make_photo((160, 120))
    png = remove_background(photo)
    lossless = remove_background(photo, output_format="webp")
    assert lossless.format == "webp" and lossless.content_type == "image/webp" and lossless.extension == ".webp"
    decoded = Image.open(io.BytesIO(lossless.data))
    assert decoded.format == "WEBP" and decoded.mode == "RGBA"
    assert np.array_equal(np.asarray(decoded), np.asarray(png.image))
    lossy = remove_background(photo, output_format="webp", webp_quality=40)
    assert Image.open(io.BytesIO(lossy.data)).size == (160, 120)
    assert b"VP8L" in lossless.data[:40] and b"VP8L" not in lossy.data[:40]  # lossless vs lossy bitstream
    assert b"VP8 " in lossy.data
    source = tmp_path / "p.png"
    photo.save(source)
    proc = pixcut("remove", source, "--out-dir", tmp_path / "o", "--format", "webp", "--webp-quality", "50", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    assert Image.open(tmp_path / "o" / "p.webp").format == "WEBP"


def test_cloud_webp_output_keeps_the_wire_format_and_encodes_locally(scripted, photo_path):
    served = cutout_with_box((40, 30), (5, 6, 25, 26))
    scripted.responses = [Canned(200, png_bytes(served), {"Content-Type": "image/png", "X-Result-Size": "40 30"})]
    cloud = create_backend("pixian", BackendSettings(endpoint=scripted.url, credentials=Credentials("i", "s")))
    result = remove_background(photo_path, backend=cloud, output_format="webp", webp_quality=80)
    assert scripted.requests[0].form().get("output.format") == b"png"
    assert result.format == "webp" and Image.open(io.BytesIO(result.data)).format == "WEBP"


# -- the cloud gets what it accepts ------------------------------------------------------------------


def test_cloud_upload_of_heic_is_a_lossless_upright_png_and_events_say_so(scripted, tmp_path):
    photo = make_photo((80, 60))
    heic = tmp_path / "shot.heic"
    heic.write_bytes(write(photo, "HEIF", icc_profile=P3))
    webp = tmp_path / "rot.webp"
    webp.write_bytes(write(photo, "WEBP", exif=exif_bytes(6)))
    served = cutout_with_box((80, 60), (10, 10, 50, 40))
    scripted.responses = [Canned(200, png_bytes(served), {"Content-Type": "image/png", "X-Input-Orientation": "1"})]
    proc = pixcut(
        "remove", heic, webp, "--out-dir", tmp_path / "out", "--json", "--endpoint", scripted.url,
        "--api-id", "i", "--api-secret", "s",
    )  # fmt: skip
    evs = events(proc)
    assert evs[0]["converted_for_upload"] == ["AVIF", "HEIF", "WEBP"]
    results = {e["input"].rsplit("/", 1)[-1]: e for e in evs if e["event"] == "result"}
    assert results["shot.heic"]["converted_for_upload"] == "HEIF"
    assert results["rot.webp"]["converted_for_upload"] == "WEBP"
    assert results["rot.webp"]["orientation"] == 6  # the user's file had it; it was applied before upload
    uploads = {r.form()["image"][:8]: r for r in scripted.requests}
    assert set(uploads) == {b"\x89PNG\r\n\x1a\n"}
    sent = [Image.open(io.BytesIO(r.form()["image"])) for r in scripted.requests]
    sizes = sorted(im.size for im in sent)
    assert sizes == [(60, 80), (80, 60)]  # the rotated WebP went upright
    heic_png = next(im for im in sent if im.size == (80, 60))
    assert heic_png.info.get("icc_profile") == P3
    assert np.array_equal(np.asarray(heic_png.convert("RGB")), np.asarray(Image.open(heic).convert("RGB")))


def test_cloud_upload_of_accepted_types_is_untouched(scripted, tmp_path):
    data = write(make_photo((80, 60)), "JPEG", quality=90)
    path = tmp_path / "p.jpg"
    path.write_bytes(data)
    scripted.responses = [
        Canned(200, png_bytes(cutout_with_box((80, 60), (10, 10, 50, 40))), {"Content-Type": "image/png"})
    ]
    cloud = create_backend("pixian", BackendSettings(endpoint=scripted.url, credentials=Credentials("i", "s")))
    result = remove_background(path, backend=cloud)
    assert scripted.requests[0].form()["image"] == data
    assert result.converted_for_upload is None


def test_pil_image_inputs_keep_their_profile_and_cmyk_ones_become_srgb():
    p3 = make_photo((80, 60))
    p3.info["icc_profile"] = P3
    assert Image.open(io.BytesIO(remove_background(p3).data)).info.get("icc_profile") == P3
    cmyk = Image.open(
        io.BytesIO(write(Image.new("CMYK", (80, 60), (0, 200, 200, 0)), "JPEG", icc_profile=cmyk_press_like()))
    )
    assert Image.open(io.BytesIO(remove_background(cmyk).data)).info.get("icc_profile") == SRGB_ICC


@pytest.mark.parametrize("fmt", ["WEBP", "AVIF", "HEIF"])
def test_profiles_of_new_input_formats_are_carried(tmp_path, fmt):
    path = tmp_path / f"p3.{fmt.lower()}"
    path.write_bytes(write(make_photo((96, 72)), fmt, icc_profile=P3))
    assert Image.open(io.BytesIO(remove_background(path).data)).info.get("icc_profile") == P3


def test_cmyk_jpeg_through_the_cli(tmp_path):
    cmyk = Image.new("CMYK", (96, 72), (10, 20, 30, 0))
    cmyk.paste((0, 210, 200, 20), (30, 18, 66, 54))
    path = tmp_path / "print.jpg"
    path.write_bytes(write(cmyk, "JPEG", quality=95, icc_profile=cmyk_press_like()))
    proc = pixcut("remove", path, "-o", tmp_path / "print.png", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    out = Image.open(tmp_path / "print.png")
    assert out.mode == "RGBA" and out.info.get("icc_profile") == SRGB_ICC
    expected = load_input(path.read_bytes()).image
    opaque_pixels_equal(out, expected)


def test_pixcut_reads_heic_with_pi_heif_and_never_loads_pillow_heif(tmp_path):
    # pillow-heif's wheels carry the GPL x265 encoder; pixcut's own process must read HEIC without it.
    heic = tmp_path / "shot.heic"
    heic.write_bytes(write(make_photo((48, 32)), "HEIF"))
    probe = (
        "import sys; from PIL import Image; from pixcut.imageio import load_input; "
        f"loaded = load_input({str(heic)!r}); "
        "print(loaded.format, loaded.size, Image.OPEN['HEIF'][0].__module__, 'pillow_heif' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["HEIF", "(48,", "32)", "pi_heif.as_plugin", "False"]

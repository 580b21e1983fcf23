"""Delta PNG round trips: encode (server side) then rebuild (client side) gives the cutout back."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixcut.delta_png import decode_delta, encode_delta
from pixcut.errors import DeltaPngError
from pixcut.finishing import make_cutout
from pixcut.imageio import load_input


def random_image(seed: int, size: tuple[int, int], mode: str) -> Image.Image:
    import random

    rng = random.Random(seed)
    return Image.frombytes(mode, size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * len(mode))))


@st.composite
def mattes(draw):
    width = draw(st.integers(1, 48))
    height = draw(st.integers(1, 48))
    seed = draw(st.integers(0, 2**32))
    # bias towards the three pixel classes the format distinguishes: 0, 255 and partial
    levels = draw(st.lists(st.sampled_from([0, 0, 255, 255, 1, 128, 254]), min_size=1, max_size=6))
    import random

    rng = random.Random(seed)
    alpha = Image.frombytes("L", (width, height), bytes(rng.choice(levels) for _ in range(width * height)))
    return random_image(seed, (width, height), "RGB"), alpha


@settings(max_examples=150, deadline=None)
@given(mattes())
def test_round_trip_on_random_mattes(case):
    image, alpha = case
    cutout = make_cutout(image, alpha)
    rebuilt = decode_delta(encode_delta(cutout), image)
    assert rebuilt.tobytes() == cutout.tobytes()


def test_round_trip_on_an_exif_rotated_jpeg():
    upright = random_image(7, (60, 40), "RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote: 40x60
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    loaded = load_input(buffer.getvalue())
    assert loaded.orientation == 6 and loaded.image.size == (60, 40)
    alpha = Image.linear_gradient("L").resize(loaded.image.size)
    cutout = make_cutout(loaded.image, alpha)
    rebuilt = decode_delta(encode_delta(cutout), load_input(buffer.getvalue()).image)
    assert rebuilt.tobytes() == cutout.tobytes()


def test_size_mismatch_is_refused():
    cutout = make_cutout(random_image(1, (20, 10), "RGB"), Image.new("L", (20, 10), 255))
    with pytest.raises(DeltaPngError, match="20x10.*10x20"):
        decode_delta(encode_delta(cutout), random_image(1, (10, 20), "RGB"))


def test_delta_encoding_uses_the_documented_pixel_values():
    image = Image.new("RGB", (3, 1), (10, 20, 30))
    alpha = Image.frombytes("L", (3, 1), bytes([0, 255, 100]))
    delta = Image.open(io.BytesIO(encode_delta(make_cutout(image, alpha))))
    assert delta.convert("RGBA").tobytes() == bytes([0, 0, 0, 0, 255, 255, 255, 0, 10, 20, 30, 100])


def test_undecodable_delta_is_a_clear_error():
    with pytest.raises(DeltaPngError, match="cannot be decoded"):
        decode_delta(b"not a png", Image.new("RGB", (2, 2)))

"""Issue 8 items 2, 4 and 8: normal file modes, PIL inputs read like files, interrupted batches clean up."""

import io
import json
import os
import signal
import stat
import subprocess
import sys

import pytest
from PIL import Image
from support import make_photo

from pixcut import remove_background
from pixcut.atomic import write_atomic
from pixcut.backends import ImageInput
from pixcut.config import config_path, update_config
from pixcut.imageio import load_input


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_outputs_get_the_normal_mode_and_replacements_keep_theirs(tmp_path, umask_022):
    """Item 2: 0666 & ~umask for a new file (not mkstemp's 0600); an existing file's mode is kept."""
    out = write_atomic(tmp_path / "out.png", b"one")
    assert mode(out) == 0o644
    os.chmod(out, 0o664)
    write_atomic(out, b"two")
    assert mode(out) == 0o664 and out.read_bytes() == b"two"
    os.umask(0o077)
    assert mode(write_atomic(tmp_path / "private.png", b"x")) == 0o600  # the user's umask decides


def test_credentials_stay_0600(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path))
    update_config(api_id="id", api_secret="secret")
    assert mode(config_path()) == 0o600


def test_cli_output_has_the_normal_mode(tmp_path, photo_path, umask_022):
    out = tmp_path / "out.png"
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(photo_path), "-o", str(out)], capture_output=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    assert mode(out) == 0o644


def sixteen_bit_photo(path):
    """A photo-like 16-bit greyscale PNG that uses the full 16-bit range (values far above 255)."""
    grey = make_photo().convert("L")
    wide = Image.frombytes("I;16", grey.size, bytes(b for v in grey.tobytes() for b in (v * 257).to_bytes(2, "little")))
    wide.save(path)
    return path


def decoded(source) -> Image.Image:
    return Image.open(io.BytesIO(ImageInput.from_source(source).data)).convert("RGB")


def test_a_16_bit_pil_image_is_read_like_the_same_file(tmp_path):
    """Item 4: no .convert('RGBA') clipping: the PIL image and the file give the same pixels and the same mask."""
    path = sixteen_bit_photo(tmp_path / "deep.png")
    with Image.open(path) as image:
        assert image.mode.startswith("I")
        assert decoded(image).tobytes() == load_input(path).image.convert("RGB").tobytes()
        by_image = remove_background(image, output="mask")
    by_path = remove_background(path, output="mask")
    assert by_image.image.tobytes() == by_path.image.tobytes()


def test_a_pil_image_honours_its_exif_orientation(tmp_path):
    """Item 4: a JPEG opened with PIL and tagged 'rotate 90' is cut out upright, like the file."""
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    make_photo((320, 200)).save(path, exif=exif.tobytes(), quality=95)
    with Image.open(path) as image:
        assert image.size == (320, 200)
        assert decoded(image).size == (200, 320)
        result = remove_background(image)
    assert result.image.size == (200, 320) == remove_background(path).image.size


def test_stale_temporaries_are_recognisable_and_removable(tmp_path):
    from pixcut.atomic import remove_stale_temporaries, temporaries_of

    target = tmp_path / "a.png"
    stale = [tmp_path / ".a.png.pixcut-abcd1234.part", tmp_path / ".a.png.x1y2z3w4.part"]  # new and old naming
    keep = [tmp_path / ".b.png.pixcut-abcd1234.part", tmp_path / ".a.png.notes.part", tmp_path / "a.png.part"]
    for path in stale + keep:
        path.write_bytes(b"x" * 10)
    assert temporaries_of(target) == sorted(stale)
    assert remove_stale_temporaries(target) == 2
    assert all(path.exists() for path in keep) and not any(path.exists() for path in stale)


def test_a_rerun_removes_the_leftovers_of_the_outputs_it_writes(tmp_path, photo_path):
    """Item 8: --skip-existing resumes and the hidden .part files of a killed run disappear."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    leftover = out_dir / ".photo.png.k1ll3d00.part"  # what a killed run of the old naming left
    leftover.write_bytes(b"\0" * 1024)
    unrelated = out_dir / ".other.png.pixcut-abcdefgh.part"
    unrelated.write_bytes(b"x")
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(photo_path), "--out-dir", str(out_dir), "--skip-existing"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out_dir / "photo.png").exists() and not leftover.exists() and unrelated.exists()
    assert [p.name for p in out_dir.iterdir() if p.name.endswith(".part")] == [unrelated.name]


def test_sigterm_finishes_in_flight_items_reports_the_summary_and_exits_143(tmp_path):
    """Item 8: SIGTERM is handled like Ctrl-C."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for index in range(40):
        make_photo((640, 480)).save(inputs / f"p{index:02}.png")
    out_dir = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixcut", "remove", str(inputs), "--out-dir", str(out_dir), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in proc.stdout:  # wait until the first result is written, then terminate
        lines.append(json.loads(line))
        if lines[-1]["event"] == "result":
            proc.send_signal(signal.SIGTERM)
            break
    rest, _ = proc.communicate(timeout=120)
    events = lines + [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert proc.returncode == 143
    summary = events[-1]
    assert summary["event"] == "summary" and summary["interrupted"] is True
    assert 1 <= summary["done"] < 40 and summary["not_attempted"] == 40 - summary["done"] - summary["failed"]
    written = sorted(p.name for p in out_dir.iterdir())
    assert not [name for name in written if name.endswith(".part")]  # in-flight items finished cleanly
    assert len(written) == summary["done"]

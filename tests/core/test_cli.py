"""The `pixcut remove` command as users and the host plug-ins run it: a real process, the real engine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support import Canned, make_photo

OPTION_FLAGS = [
    "--test",
    "--max-pixels",
    "--background-color",
    "--crop-to-foreground",
    "--margin",
    "--target-size",
    "--vertical-alignment",
    "--format",
    "--jpeg-quality",
    "--backend",
    "--endpoint",
    "--api-id",
    "--api-secret",
    "--delta",
    "--jobs",
    "--skip-existing",
    "--json",
    "--out-dir",
    "--output",
]


def pixcut(*args, env=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_help_lists_every_option():
    top = pixcut("--help")
    assert top.returncode == 0 and "remove" in top.stdout and "serve" in top.stdout
    text = pixcut("remove", "--help").stdout
    for flag in OPTION_FLAGS:
        assert flag in text, flag


def test_single_image_json_contract(tmp_path, photo_path):
    out = tmp_path / "out.png"
    proc = pixcut("remove", photo_path, "-o", out, "--json", "--crop-to-foreground", "--margin", "4px")
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    from pixcut import __version__
    from pixcut.hosts.hostkit import PROTOCOL

    assert evs[0] == {"event": "start", "total": 1, "backend": "local", "protocol": PROTOCOL, "version": __version__}
    result = next(e for e in evs if e["event"] == "result")
    assert result["output"] == str(out.resolve()) and result["format"] == "png"
    image = Image.open(out)
    assert image.mode == "RGBA" and list(image.size) == result["result_size"]
    top, left, width, height = result["result_foreground"]
    assert (top, left) == (4, 4) and (width + 8, height + 8) == image.size
    assert evs[-1]["event"] == "summary" and evs[-1]["done"] == 1 and evs[-1]["failed"] == 0


def test_batch_with_a_corrupt_input_finishes_the_others(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        make_photo((160 + 16 * i, 120)).save(src / f"img{i}.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    good = (src / "img0.png").read_bytes()
    (src / "truncated.jpg").write_bytes(good[: len(good) // 3])
    out = tmp_path / "out"
    proc = pixcut("remove", src, "--out-dir", out, "--json", "--jobs", "2")
    assert proc.returncode == 1
    evs = events(proc.stdout)
    errors = {Path(e["input"]).name: e["error"] for e in evs if e["event"] == "error"}
    assert set(errors) == {"broken.png", "truncated.jpg"}
    assert all(e["code"] in (1006, 1007) and e["message"] for e in errors.values())
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png", "img2.png"]
    summary = evs[-1]
    assert (summary["done"], summary["failed"]) == (3, 2)
    # the human form says the same on stderr
    human = pixcut("remove", src, "--out-dir", tmp_path / "out2")
    assert human.returncode == 1 and "broken.png" in human.stderr and "failed: 2" in human.stderr


def test_rejected_credentials_stop_a_cloud_batch_after_one_request(tmp_path, scripted):
    scripted.responses = [
        Canned(
            401,
            json.dumps({"error": {"status": 401, "code": 1200, "message": "Invalid API credentials"}}).encode(),
            {"Content-Type": "application/json"},
        )
    ]
    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        make_photo((64, 48)).save(src / f"img{i}.png")
    proc = pixcut(
        "remove",
        src,
        "--out-dir",
        tmp_path / "out",
        "--json",
        "--jobs",
        "1",
        "--endpoint",
        scripted.url,
        "--api-id",
        "me",
        "--api-secret",
        "hunter2-secret",
    )
    assert proc.returncode == 1
    assert len(scripted.requests) == 1
    summary = events(proc.stdout)[-1]
    assert (summary["failed"], summary["not_attempted"], summary["interrupted"]) == (1, 3, False)
    assert "Invalid API credentials" in summary["stopped_by"]
    assert "hunter2-secret" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_skip_existing_resumes_and_inputs_are_never_overwritten(tmp_path, photo_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.png").write_bytes(b"keep me")
    proc = pixcut("remove", photo_path, "--out-dir", out, "--skip-existing", "--json")
    assert proc.returncode == 0
    assert (out / "photo.png").read_bytes() == b"keep me"
    assert any(e["event"] == "skipped" for e in events(proc.stdout))
    before = photo_path.read_bytes()
    clash = pixcut("remove", photo_path, "-o", photo_path, "--json")
    assert clash.returncode == 2 and "never overwrites an input" in clash.stdout
    assert photo_path.read_bytes() == before


def test_default_output_name_is_beside_the_input(tmp_path, photo_path):
    proc = pixcut("remove", photo_path, "--background-color", "#FF0000")
    assert proc.returncode == 0, proc.stderr
    out = photo_path.with_name("photo-cutout.jpg")
    assert Image.open(out).format == "JPEG"
    assert not list(tmp_path.glob(".*.part"))  # atomic write leaves no temporary file


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--margin", "5"], "result.margin"),
        (["--target-size", "10"], "result.target_size"),
        (["--background-color", "red"], "background.color"),
        (["--jpeg-quality", "0"], "output.jpeg_quality"),
        (["--backend", "nope"], "unknown backend"),
        (["--jobs", "101"], "--jobs must be 1..100"),
        (["--jobs", "0"], "--jobs must be 1..100"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, photo_path, flags, message):
    proc = pixcut("remove", photo_path, "-o", tmp_path / "x.png", "--json", *flags)
    assert proc.returncode == 2
    (event,) = events(proc.stdout)
    assert event["event"] == "error" and event["input"] is None and message in event["error"]["message"]
    assert not (tmp_path / "x.png").exists()


def test_missing_input_is_reported(tmp_path):
    proc = pixcut("remove", tmp_path / "nope.jpg", "-o", tmp_path / "x.png", "--json")
    assert proc.returncode == 1
    error = next(e for e in events(proc.stdout) if e["event"] == "error")
    assert "cannot read" in error["error"]["message"]


def test_a_base_install_without_the_engine_says_what_to_install(tmp_path, photo_path):
    """`pip install pixcut` (no [local] extra) lacks numpy and onnxruntime: simulated by blocking numpy."""
    script = (
        "import sys; sys.modules['numpy'] = None; "  # makes `import numpy` fail like a missing package
        "from pixcut.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "x.png"
    proc = subprocess.run(
        [sys.executable, "-c", script, "remove", str(photo_path), "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    (error,) = [e for e in events(proc.stdout) if e["event"] == "error"]
    assert error["error"]["code"] == 1400 and "pip install 'pixcut[local]'" in error["error"]["message"]
    assert not out.exists()
    doctor = subprocess.run([sys.executable, "-c", script, "doctor"], capture_output=True, text=True, timeout=120)
    assert doctor.returncode == 1 and "pixcut[local]" in doctor.stdout

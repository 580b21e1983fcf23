"""``pixcut remove - -o -`` inside real shell pipelines (bash), the real engine in between."""

import json
import shlex
import subprocess
import sys

from PIL import Image
from support import make_photo

PIXCUT = f"{shlex.quote(sys.executable)} -m pixcut"
PY = shlex.quote(sys.executable)
CHECK = (
    "import io, sys; from PIL import Image; im = Image.open(io.BytesIO(sys.stdin.buffer.read())); "
    "print(im.format, im.mode, im.size[0], im.size[1])"
)


def bash(script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_stdin_to_stdout_through_a_shell_pipeline_with_json_on_stderr(tmp_path):
    make_photo((200, 150)).save(tmp_path / "x.jpg", quality=95)
    proc = bash(f"cat x.jpg | {PIXCUT} remove - -o - --json 2>events.jsonl | {PY} -c {shlex.quote(CHECK)}", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["PNG", "RGBA", "200", "150"]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary"
    result = next(e for e in events if e["event"] == "result")
    assert result["input"] == "-" and result["output"] == "-" and result["result_size"] == [200, 150]


def test_pipe_with_options_mask_and_webp(tmp_path):
    make_photo((200, 150)).save(tmp_path / "x.png")
    proc = bash(
        f"cat x.png | {PIXCUT} remove - -o - --output-type mask --crop-to-foreground --format webp "
        f"| {PY} -c {shlex.quote(CHECK)}",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    fmt, _, width, height = proc.stdout.split()
    assert fmt == "WEBP" and int(width) < 200 and int(height) < 150


def test_file_to_stdout_and_stdin_to_file(tmp_path):
    make_photo((120, 90)).save(tmp_path / "x.png")
    proc = bash(f"{PIXCUT} remove x.png -o - > out.png && cat x.png | {PIXCUT} remove - -o from-stdin.png", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "out.png").size == (120, 90)
    assert Image.open(tmp_path / "from-stdin.png").mode == "RGBA"


def test_bad_input_on_stdin_is_one_line_on_stderr_and_nothing_on_stdout(tmp_path):
    proc = bash(f"echo 'not an image' | {PIXCUT} remove - -o - --json", tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    error = next(json.loads(line) for line in proc.stderr.splitlines() if '"error"' in line)
    assert error["error"]["code"] == 1007 and error["input"] == "-"
    proc = bash(f"cat /dev/null | {PIXCUT} remove - --out-dir out", tmp_path)
    assert proc.returncode == 2 and "-o" in proc.stderr
    proc = bash(f"{PIXCUT} remove - a.png -o -", tmp_path)
    assert proc.returncode == 2 and "only input" in proc.stderr

"""Issue 8 items 5, 7, 9 and 10 as users meet them: a real `pixcut` process, one clear line, the right exit code."""

import json
import os
import subprocess
import sys

import pytest
from support import Canned, raised_within

from pixcut.batch import BatchItem, run_batch

SECRET = "S3CRET-in-the-url"


def pixcut(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=stdin,
        env={**os.environ, "PIXIAN_API_ID": "", "PIXIAN_API_SECRET": "env-secret", **(env or {})},
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        (["--threads", "0"], {}, "threads"),
        ([], {"PIXCUT_RUNTIME": "tensorflow"}, "PIXCUT_RUNTIME: expected one of auto, onnxruntime, ncnn"),
        (["--endpoint", "notaurl"], {}, "not an http(s) URL"),
        (["--endpoint", f"ftp://user:{SECRET}@example.com/x"], {}, "not an http(s) URL"),
    ],
    ids=["threads-0", "bad-PIXCUT_RUNTIME", "endpoint-notaurl", "endpoint-ftp-with-password"],
)
def test_bad_threads_or_endpoint_fail_once_before_the_batch(tmp_path, photo_path, flags, env, expected):
    """Item 7 (and 5): validated before any input is tried: exit 2, one line, the password masked."""
    second = tmp_path / "second.png"
    second.write_bytes(photo_path.read_bytes())
    proc = pixcut("remove", photo_path, second, "--out-dir", tmp_path / "out", *flags, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
    json_proc = pixcut("remove", photo_path, second, "--out-dir", tmp_path / "out", *flags, "--json", env=env)
    events = [json.loads(line) for line in json_proc.stdout.splitlines()]
    assert json_proc.returncode == 2 and [e["event"] for e in events] == ["error"] and events[0]["input"] is None


def test_a_password_in_an_unreachable_endpoint_is_masked(tmp_path, photo_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://user:{SECRET}@127.0.0.1:{port}/api/v2/remove-background"
    proc = pixcut(
        "remove",
        photo_path,
        "-o",
        tmp_path / "out.png",
        "--endpoint",
        endpoint,
        "--json",
        "--api-id",
        "i",
        "--api-secret",
        "s",
    )
    assert proc.returncode == 1
    assert SECRET not in proc.stdout + proc.stderr and "127.0.0.1" in proc.stdout


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_output_onto_a_folder_or_under_a_file_is_one_clear_line(tmp_path, photo_path, where):
    """Item 7: no raw errno text and no temporary file name."""
    blocker = tmp_path / "taken"
    if where == "folder":
        blocker.mkdir()
        out = blocker
    else:
        blocker.write_bytes(b"a file")
        out = blocker / "out.png"
    proc = pixcut("remove", photo_path, "-o", out)
    assert proc.returncode == 2, proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and str(out) in lines[0]
    assert ".part" not in proc.stderr and "Errno" not in proc.stderr and "Traceback" not in proc.stderr


def test_format_and_output_extension_must_agree(tmp_path, photo_path):
    """Item 10: --format jpeg -o x.png is refused (exit 2), never JPEG bytes in a .png."""
    out = tmp_path / "x.png"
    proc = pixcut("remove", photo_path, "--format", "jpeg", "-o", out)
    assert proc.returncode == 2 and not out.exists()
    assert "x.jpg" in proc.stderr and "--format" in proc.stderr
    proc = pixcut("remove", photo_path, "--background-color", "#FFFFFF", "-o", out)  # auto would be JPEG
    assert proc.returncode == 2 and not out.exists()
    ok = pixcut("remove", photo_path, "--format", "jpeg", "-o", tmp_path / "x.jpeg")
    assert ok.returncode == 0 and (tmp_path / "x.jpeg").read_bytes()[:2] == b"\xff\xd8"


def test_the_human_error_line_shows_the_api_code(scripted, tmp_path, photo_path):
    """Item 9: 'code 1006' in the one-line error, as the --json event already has it."""
    body = json.dumps({"error": {"status": 400, "code": 1006, "message": "Failed to read the supplied image"}})
    scripted.responses = [Canned(400, body.encode(), {"Content-Type": "application/json"})]
    proc = pixcut("remove", photo_path, "-o", tmp_path / "out.png", "--endpoint", scripted.url, "--api-id", "i")
    assert proc.returncode == 1
    assert "Failed to read the supplied image (code 1006)" in proc.stderr


def test_eof_at_the_credentials_prompt_is_one_line(tmp_path):
    """Item 7: Ctrl-D / closed stdin at `config set-credentials`: exit 2, no traceback, nothing stored."""
    env_dir = tmp_path / "config"
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "config", "set-credentials"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PIXCUT_CONFIG_DIR": str(env_dir)},
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert error_lines(proc.stderr) == ["pixcut: error: no credentials given (end of input); nothing was stored"]
    assert not (env_dir / "config.json").exists()


def test_memory_error_is_reported_with_a_message_and_the_batch_goes_on(tmp_path):
    """Item 7: MemoryError() has no text; the error event must still say what happened."""
    items = [BatchItem(tmp_path / f"{name}.png", tmp_path / f"{name}-out.png") for name in ("big", "small")]

    def process(item):
        if item.input.stem == "big":
            raise MemoryError()
        return {"event": "result", "input": str(item.input)}

    events = []
    summary = run_batch(items, process, events.append)
    error = next(e for e in events if e["event"] == "error")
    assert error["error"]["type"] == "MemoryError" and "not enough memory" in error["error"]["message"]
    assert (summary.done, summary.failed) == (1, 1)


def test_a_reader_that_goes_away_stops_the_batch_like_sigpipe(tmp_path, photo_path):
    """`pixcut remove DIR --json | head -1`: exit 141 at once, no traceback, whole outputs only."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        (inputs / f"p{i}.png").write_bytes(photo_path.read_bytes())
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixcut", "remove", str(inputs), "--out-dir", str(out), "--json", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "start" and first["total"] == 4
    proc.stdout.close()  # what `head -1` does after its line
    try:
        status = proc.wait(timeout=120)  # before the fix, the worker died and the batch waited forever
    finally:
        proc.kill()
    stderr = proc.stderr.read().decode()
    assert status == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr
    written = sorted(out.iterdir()) if out.exists() else []
    assert len(written) < 4  # no new input was started once the reader had gone
    for path in written:
        assert path.suffix == ".png" and path.read_bytes().startswith(b"\x89PNG")  # no temporaries


def test_a_reporter_that_raises_stops_the_batch_and_reaches_the_caller(tmp_path):
    """A bug escaping an item (here in the reporter) is raised by run_batch, not a hang."""
    items = [BatchItem(tmp_path / f"in{i}.png", tmp_path / f"out{i}.png") for i in range(5)]
    processed = []

    def process(item):
        processed.append(item)
        return {"event": "result"}

    def report(event):
        if event["event"] == "result":
            raise RuntimeError("reporter bug")

    # Before the fix the batch waited forever for items no worker would take.
    raised = raised_within(lambda: run_batch(items, process, report, jobs=1))
    assert isinstance(raised, RuntimeError) and "reporter bug" in str(raised)
    assert len(processed) == 1


def test_an_offline_removal_never_imports_the_http_client(tmp_path, photo_path):
    """Each GIMP or Krita run is a cold `pixcut remove`: requests (about 90 ms to import) is the
    cloud backend's, loaded on its first call only."""
    script = (
        "import sys\n"
        "from pixcut.cli.main import main\n"
        f"code = main(['remove', {str(photo_path)!r}, '-o', {str(tmp_path / 'out.png')!r}, '-q'])\n"
        "print(code, 'requests' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert proc.stdout.split() == ["0", "False"], proc.stderr
    assert (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")

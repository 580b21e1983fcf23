"""The ncnn runtime: the translated graph computes what ONNX Runtime computes, on the real models."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from pixcut.engine import get_engine
from pixcut.engine.engine import clear_engines
from pixcut.engine.models import resolve_model
from pixcut.engine.onnx_to_ncnn import UnsupportedGraphError, convert
from pixcut.engine.session import NCNN, ONNXRUNTIME, clear_sessions, get_session
from pixcut.engine.tensors import to_tensor
from pixcut.errors import OptionsError

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "docs" / "samples" / "astronaut.jpg"
PULLED_U2NET = REPO / ".cache" / "models" / "u2net.onnx"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No cached engines or sessions before or after, so each runtime is really created."""
    clear_engines()
    clear_sessions()
    yield monkeypatch
    clear_engines()
    clear_sessions()


def _photo_tensor() -> np.ndarray:
    spec = resolve_model().spec
    return to_tensor(Image.open(ASTRONAUT).convert("RGB"), spec)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    tensor = _photo_tensor()
    monkeypatch.setenv("PIXCUT_RUNTIME", "ncnn")
    ncnn_session = get_session(path, threads=2, family="u2net")
    monkeypatch.setenv("PIXCUT_RUNTIME", "onnxruntime")
    ort_session = get_session(path, threads=2, family="u2net")
    assert (ncnn_session.runtime, ort_session.runtime) == (NCNN, ONNXRUNTIME)
    return ncnn_session.run(tensor)[0], ort_session.run(tensor)[0]


def test_u2netp_on_ncnn_equals_onnxruntime(fresh: pytest.MonkeyPatch) -> None:
    ours, reference = _both(resolve_model().path, fresh)
    assert ours.shape == reference.shape == (1, 1, 320, 320)
    assert float(np.abs(ours - reference).max()) < 1e-4
    assert 0.1 < float((reference > 0.5).mean()) < 0.9  # a real mask, not a flat map


@pytest.mark.skipif(not PULLED_U2NET.is_file(), reason="u2net not pulled here (.ci/models pulls it)")
def test_u2net_on_ncnn_equals_onnxruntime(fresh: pytest.MonkeyPatch) -> None:
    ours, reference = _both(PULLED_U2NET, fresh)
    assert float(np.abs(ours - reference).max()) < 1e-4


def test_default_engine_runs_ncnn_and_masks_match_onnxruntime(fresh: pytest.MonkeyPatch) -> None:
    rgb = Image.open(ASTRONAUT).convert("RGB")
    fresh.delenv("PIXCUT_RUNTIME", raising=False)
    default = get_engine()
    assert default.session.runtime == NCNN and default.provider == "ncnn (CPU)"
    ours = np.asarray(default.predict_alpha(rgb), dtype=np.int16)
    clear_engines()
    fresh.setenv("PIXCUT_RUNTIME", "onnxruntime")
    reference = np.asarray(get_engine().predict_alpha(rgb), dtype=np.int16)
    diff = np.abs(ours - reference)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.001


def test_threads_share_one_net_and_get_the_same_answer(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv("PIXCUT_RUNTIME", "ncnn")
    session = get_session(resolve_model().path, threads=1, family="u2net")
    rng = np.random.default_rng(7)
    tensors = [rng.standard_normal((1, 3, 320, 320), dtype=np.float32) for _ in range(4)]
    alone = [session.run(t)[0] for t in tensors]
    results: dict[tuple[int, int], np.ndarray] = {}

    def work(worker: int) -> None:
        for round_ in range(3):
            for i, t in enumerate(tensors):
                results[(worker, round_ * 10 + i)] = session.run(t)[0]

    threads = [threading.Thread(target=work, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 36
    for (_, key), out in results.items():
        assert np.array_equal(out, alone[key % 10])


def _tiny_model(path: Path, op: str) -> None:
    """A 1x3x32x32 -> 1x1x32x32 graph: a 1x1 convolution then ``op``."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [0.5, -0.25, 0.125])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node(op, ["c"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 32, 32])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_translated_tiny_graph_and_an_untranslatable_one(tmp_path: Path, fresh: pytest.MonkeyPatch) -> None:
    ok, odd = tmp_path / "ok.onnx", tmp_path / "odd.onnx"
    _tiny_model(ok, "Sigmoid")
    _tiny_model(odd, "Tanh")
    net = convert(str(ok))
    assert net.input_shape == (1, 3, 32, 32) and net.param.startswith("7767517\n")
    with pytest.raises(UnsupportedGraphError, match="Tanh"):
        convert(str(odd))
    x = np.random.default_rng(1).standard_normal((1, 3, 32, 32), dtype=np.float32)
    conv = 0.5 * x[0, 0] - 0.25 * x[0, 1] + 0.125 * x[0, 2]
    expected = 1 / (1 + np.exp(-conv))
    fresh.setenv("PIXCUT_RUNTIME", "ncnn")
    on_ncnn = get_session(ok, threads=1, family="u2net")
    assert on_ncnn.runtime == NCNN
    assert float(np.abs(on_ncnn.run(x)[0][0, 0] - expected).max()) < 1e-5
    # An operator the translator does not cover: the same model still runs, on ONNX Runtime.
    fallback = get_session(odd, threads=1, family="u2net")
    assert fallback.runtime == ONNXRUNTIME
    assert float(np.abs(fallback.run(x)[0][0, 0] - np.tanh(conv)).max()) < 1e-4


def _concat_conv_model(path: Path, parts: int, relu: bool) -> None:
    """x -> ``parts`` 3x3 convolutions (4 channels each) -> Concat -> 3x3 Conv (bias) [-> Relu] -> y."""
    rng = np.random.default_rng(2)
    inits, nodes = [], []
    for i in range(parts):
        inits.append(helper.make_tensor(f"w{i}", TensorProto.FLOAT, [4, 3, 3, 3], rng.standard_normal(108).tolist()))
        nodes.append(helper.make_node("Conv", ["x", f"w{i}"], [f"p{i}"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Concat", [f"p{i}" for i in range(parts)], ["cat"], axis=1))
    inits.append(helper.make_tensor("wc", TensorProto.FLOAT, [5, 4 * parts, 3, 3], rng.standard_normal(180 * parts)))
    inits.append(helper.make_tensor("bc", TensorProto.FLOAT, [5], rng.standard_normal(5).tolist()))
    nodes.append(helper.make_node("Conv", ["cat", "wc", "bc"], ["c" if relu else "y"], pads=[1, 1, 1, 1]))
    if relu:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "concat_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 24, 24])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 24, 24])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.mark.parametrize(("parts", "relu"), [(2, True), (3, True), (2, False)])
def test_a_convolution_on_a_wide_concatenation_runs_per_part(
    tmp_path: Path, fresh: pytest.MonkeyPatch, parts: int, relu: bool
) -> None:
    from pixcut.engine import onnx_to_ncnn

    path = tmp_path / "cat.onnx"
    _concat_conv_model(path, parts, relu)
    whole = convert(str(path))
    assert "Concat" in whole.param and "_part" not in whole.param  # below the threshold: as written
    fresh.setattr(onnx_to_ncnn, "SPLIT_CONCAT_MIN_ELEMENTS", 1)
    split = convert(str(path))
    assert "Concat" not in split.param and split.param.count("_part") >= parts
    x = np.random.default_rng(3).standard_normal((1, 3, 24, 24), dtype=np.float32)
    fresh.setenv("PIXCUT_RUNTIME", "ncnn")
    on_ncnn = get_session(path, threads=1, family="u2net").run(x)[0]
    fresh.setenv("PIXCUT_RUNTIME", "onnxruntime")
    on_ort = get_session(path, threads=1, family="u2net").run(x)[0]
    assert on_ncnn.shape == on_ort.shape == (1, 5, 24, 24)
    assert (on_ort.min() == 0.0) == relu  # the ReLU clipped, or the sum came out signed
    assert float(np.abs(on_ncnn - on_ort).max()) < 1e-4


def test_auto_keeps_onnxruntime_for_other_families_and_refuses_a_bad_setting(fresh: pytest.MonkeyPatch) -> None:
    path = resolve_model().path
    fresh.delenv("PIXCUT_RUNTIME", raising=False)
    assert get_session(path, family="isnet").runtime == ONNXRUNTIME
    assert get_session(path).runtime == ONNXRUNTIME  # a family nobody declared
    assert get_session(path, family="u2net").runtime == NCNN
    fresh.setenv("PIXCUT_RUNTIME", "tensorflow")
    with pytest.raises(OptionsError, match="PIXCUT_RUNTIME"):
        get_session(path, family="u2net")
    # A caller's explicit choice wins over the environment, as `pixcut remove --runtime` does.
    assert get_session(path, family="u2net", runtime="onnxruntime").runtime == ONNXRUNTIME
    from pixcut.backends import BackendSettings, create_backend
    from pixcut.cli.main import build_parser
    from pixcut.cli.remove import settings_from_args

    args = build_parser().parse_args(["remove", "in.png", "--runtime", "onnxruntime"])
    name, settings = settings_from_args(args, {})
    assert settings.runtime == ONNXRUNTIME
    assert create_backend(name, settings).engine.session.runtime == ONNXRUNTIME
    fresh.delenv("PIXCUT_RUNTIME")
    assert BackendSettings().runtime is None and get_engine().session.runtime == NCNN


def _convolution(fields: list[str]) -> tuple[int, int, dict[str, str]]:
    """(input channels, output channels, params) of a one-input Convolution line of an ncnn param file."""
    params = dict(field.split("=") for field in fields[6:])
    out_c = int(params["0"])
    return int(params["6"]) // (out_c * int(params["1"]) * int(params["11"])), out_c, params


def test_one_output_and_rgb_input_convolutions_pick_their_own_kernels() -> None:
    """The side outputs and the RGB input layer run on ncnn's direct kernel (see ``conv_featmask``);
    every other convolution keeps Winograd without im2col+GEMM."""
    from pixcut.engine.onnx_to_ncnn import FEATMASK_NO_SGEMM, FEATMASK_NO_WINOGRAD

    masks: dict[tuple[int, int], set[int]] = {}
    for line in convert(str(resolve_model().path)).param.splitlines():
        fields = line.split()
        if fields[0] != "Convolution":
            continue
        in_c, out_c, params = _convolution(fields)
        kind = (1 if out_c == 1 else 2, 1 if in_c < 8 else 2)
        masks.setdefault(kind, set()).add(int(params["31"]))
    assert masks[(1, 2)] == {FEATMASK_NO_SGEMM | FEATMASK_NO_WINOGRAD}  # side outputs 64 -> 1, fuse 6 -> 1
    assert masks[(2, 1)] == {FEATMASK_NO_SGEMM | FEATMASK_NO_WINOGRAD}  # 3 -> 64 at 320x320
    assert masks[(2, 2)] == {FEATMASK_NO_SGEMM}


def test_only_concatenations_wider_than_their_convolution_run_per_part() -> None:
    """u2netp's two 64+64 -> 64 decoder convolutions (at 320 and 160) run per part, without the
    concatenated map; its 16+16 -> 64 ones at 320x320 read their concatenation (see
    ``SPLIT_CONCAT_MIN_ELEMENTS``: splitting those saved no memory and cost 6% of a run)."""
    import ncnn

    from pixcut.engine.onnx_to_ncnn import SPLIT_CONCAT_MIN_ELEMENTS

    net = convert(str(resolve_model().path))
    lines = [line.split() for line in net.param.splitlines()[2:]]
    concat_outputs = {fields[4 + int(fields[2])] for fields in lines if fields[0] == "Concat"}
    runner = ncnn.Net()
    runner.load_param_mem(net.param)
    runner.load_model_mem(net.weights)
    extractor = runner.create_extractor()
    extractor.input(net.input_blob, ncnn.Mat(np.zeros((3, 320, 320), dtype=np.float32)))
    parts: dict[str, list[tuple[int, int]]] = {}
    whole: list[tuple[int, int, int]] = []  # (input channels, output channels, side)
    for fields in lines:
        if fields[0] != "Convolution":
            continue
        in_c, out_c, _ = _convolution(fields)
        if "_part" in fields[1]:
            parts.setdefault(fields[1].split("_part")[0], []).append((in_c, out_c))
        elif fields[4] in concat_outputs:
            whole.append((in_c, out_c, extractor.extract(fields[4])[1].w))
    assert sorted(parts.values()) == [[(64, 64), (64, 64)]] * 2
    assert whole.count((32, 64, 320)) == 2  # the first stage's last layer and the last decoder's
    assert not [conv for conv in whole if conv[0] > conv[1] and conv[0] * conv[2] ** 2 >= SPLIT_CONCAT_MIN_ELEMENTS]

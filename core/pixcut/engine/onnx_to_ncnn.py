"""Translate a U^2-Net-style ONNX graph into an ncnn network, in memory, at load time.

Why: ncnn runs 3x3 convolutions with Winograd transforms in float32, which on this kind of CPU
takes u2netp from 0.44 to about 0.31 s per core (ONNX Runtime's MLAS already runs its direct
convolutions near the core's FMA peak, so only fewer multiplications help), while its output
stays within 1e-5 of ONNX Runtime's. There is no well-kept converter on PyPI that runs without
PyTorch (``pnnx`` depends on it), so this module translates the handful of operators the
U^2-Net family is made of, reading the verified ``.onnx`` file with the ``onnx`` package. A
graph with anything else raises :class:`UnsupportedGraphError` and the engine keeps ONNX Runtime.

The input shape is fixed (the engine always feeds the model size), so every shape is known
here: ``Resize`` nodes whose target size comes from another tensor's ``Shape`` (PyTorch's
``F.interpolate(x, size=y.shape[2:])``) become fixed-size ``Interp`` layers, and the shape
arithmetic around them is dropped.

ncnn's formats: the param file is text (``7767517``, layer and blob counts, one layer per line:
type, name, input count, output count, blobs, ``key=value`` parameters); the weights are the
layers' blobs in layer order, a convolution's kernel after a 4-byte zero tag (raw float32), its
bias raw. A blob read by several layers needs an explicit ``Split``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Operators that only compute shapes; dropped, their results read statically.
SHAPE_OPS = frozenset({"Shape", "Gather", "Unsqueeze", "Slice", "Cast", "Constant", "Concat", "Squeeze"})
#: Translated operators (Concat counts as data when its inputs are image tensors).
DATA_OPS = frozenset({"Conv", "Relu", "MaxPool", "Resize", "Concat", "Add", "Sigmoid"})

MAGIC = 7767517
#: ncnn's per-layer feature mask (param 31), bit 5: no im2col+GEMM convolution. Its im2col copies
#: are the largest buffers of a u2netp run; without them 3x3 convolutions still take the Winograd
#: path and the others the direct one, at the same speed, and the steady peak RSS of a 2-thread
#: session falls from 746 to 633 MB.
FEATMASK_NO_SGEMM = 32
#: Bit 6: no Winograd convolution (see :func:`conv_featmask`).
FEATMASK_NO_WINOGRAD = 64
#: A convolution that reads a channel concatenation at least this large (channels x height x width),
#: and wider than its own output, is run as one convolution per part, summed, instead of on the
#: concatenation. U^2-Net's decoders concatenate two 64-channel maps before a 128-channel
#: convolution; at 320x320 that concatenation (52 MB), its padded copy and its Winograd transform
#: (95 MB) are the largest buffers of a run. Split at or above 128 x 160 x 160 (u2netp's two largest
#: decoder convolutions): the peak of a 2-thread run fell from 628 to 508 MB and that of two
#: concurrent 1-thread runs from 1233 to 779 MB, at the same speed. Splitting every concatenation
#: (50 in u2netp) cost 10-16% in speed.
#:
#: Only a concatenation wider than the convolution's output is split: the parts' running sum is an
#: output-sized map, added and then rectified in two more passes, so a narrower one saves no memory
#: and costs time. u2netp's two 16+16 -> 64 convolutions at 320x320 had been split too: leaving them
#: whole took a 2-thread run from 184 to 173 ms (A/B in one process, 60 alternations), its peak from
#: 503 to 518 MB, and two concurrent 1-thread runs from 777-848 to 721-769 MB. u2net's speed did not
#: change.
SPLIT_CONCAT_MIN_ELEMENTS = 128 * 160 * 160


class UnsupportedGraphError(ValueError):
    """The graph uses something this translator does not cover; run it with ONNX Runtime."""


@dataclass
class NcnnNet:
    """The translated network: param text, weight bytes and the blob names to feed and read."""

    param: str
    weights: bytes
    input_blob: str
    output_blobs: list[str]
    input_shape: tuple[int, int, int, int]


@dataclass
class _Layer:
    kind: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def convert(model_path: str, input_hw: tuple[int, int] | None = None) -> NcnnNet:
    """Translate the ONNX model at ``model_path`` for a (1, C, H, W) input of ``input_hw``.

    Without ``input_hw`` the graph's own fixed input size is used (the catalogue's models all
    have one); a graph without one raises :class:`UnsupportedGraphError`.
    """
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UnsupportedGraphError("the onnx package is not installed") from exc
    try:
        model = onnx.load(model_path)
    except Exception as exc:  # protobuf's DecodeError and OS errors; ONNX Runtime then names the fix
        raise UnsupportedGraphError(f"onnx cannot read the file ({exc.__class__.__name__})") from exc
    graph = model.graph
    # Converted to arrays one layer at a time, when written: no second copy of all the weights.
    initializers = {t.name: t for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise UnsupportedGraphError(f"expected one image input, found {len(inputs)}")
    in_name = inputs[0].name
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[0] not in (0, 1):
        raise UnsupportedGraphError(f"expected one (1, C, H, W) input, found {dims}")
    channels = dims[1] or 3
    if input_hw is None:
        if not (dims[2] and dims[3]):
            raise UnsupportedGraphError("the graph's input size is not fixed")
        input_hw = (dims[2], dims[3])
    shapes: dict[str, tuple[int, int, int]] = {in_name: (channels, *input_hw)}
    producer = {out: node for node in graph.node for out in node.output}
    layers: list[_Layer] = [_Layer("Input", "input", [], [in_name], {0: input_hw[1], 1: input_hw[0], 2: channels})]
    relu_fused: set[str] = set()
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)

    for index, node in enumerate(graph.node):
        op = node.op_type
        if node.output[0] in relu_fused:
            continue
        data_in = [name for name in node.input if name in shapes]
        if not data_in:
            if op in SHAPE_OPS:
                continue
            raise UnsupportedGraphError(f"operator {op} ({node.name}) on non-image data")
        if op == "Shape":
            continue
        if op not in DATA_OPS:
            raise UnsupportedGraphError(f"operator {op} ({node.name}) is not translated")
        a = _attrs(node)
        name = f"{op.lower()}_{index}"
        out = node.output[0]
        if op == "Conv":
            layer, shape = _conv(node, a, initializers, shapes[node.input[0]], name)
            users = consumers[out]
            if len(users) == 1 and users[0].op_type == "Relu" and out not in {o.name for o in graph.output}:
                layer.params[9] = 1  # ReLU fused into the convolution
                out = users[0].output[0]
                relu_fused.add(out)
            layer.outputs = [out]
        elif op == "Relu":
            layer, shape = _Layer("ReLU", name, [node.input[0]], [out]), shapes[node.input[0]]
        elif op == "Sigmoid":
            layer, shape = _Layer("Sigmoid", name, [node.input[0]], [out]), shapes[node.input[0]]
        elif op == "MaxPool":
            layer, shape = _pool(node, a, shapes[node.input[0]], name)
        elif op == "Resize":
            layer, shape = _resize(node, a, shapes, producer, name)
        elif op == "Concat":
            if len(data_in) != len(node.input) or a.get("axis", 1) not in (1, -3):
                raise UnsupportedGraphError(f"Concat {node.name} is not a channel concatenation of images")
            parts = [shapes[i] for i in node.input]
            if len({p[1:] for p in parts}) != 1:
                raise UnsupportedGraphError(f"Concat {node.name} joins maps of different sizes")
            layer = _Layer("Concat", name, list(node.input), [out], {0: 0})
            shape = (sum(p[0] for p in parts), *parts[0][1:])
        else:  # Add
            if len(data_in) != 2 or shapes[node.input[0]] != shapes[node.input[1]]:
                raise UnsupportedGraphError(f"Add {node.name} is not an element-wise sum of two equal maps")
            layer, shape = _Layer("BinaryOp", name, list(node.input), [out], {0: 0}), shapes[node.input[0]]
        shapes[layer.outputs[0]] = shape
        layers.append(layer)

    outputs = [o.name for o in graph.output]
    missing = [o for o in outputs if o not in shapes]
    if missing:
        raise UnsupportedGraphError(f"outputs {missing} are not computed from the image")
    layers = _split_wide_concat_convs(layers, shapes, set(outputs))
    return _serialise(layers, in_name, outputs, (1, channels, *input_hw))


def _conv(
    node: Any, a: dict[str, Any], initializers: dict[str, Any], shape: tuple[int, int, int], name: str
) -> tuple[_Layer, tuple[int, int, int]]:
    from onnx import numpy_helper

    if a.get("group", 1) != 1 or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise UnsupportedGraphError(f"Conv {node.name}: groups or auto_pad are not translated")
    if node.input[1] not in initializers:
        raise UnsupportedGraphError(f"Conv {node.name}: the kernel is not a constant")
    kernel = np.ascontiguousarray(numpy_helper.to_array(initializers[node.input[1]]), dtype="<f4")
    if kernel.ndim != 4 or kernel.shape[1] != shape[0]:
        raise UnsupportedGraphError(f"Conv {node.name}: kernel {kernel.shape} does not fit input {shape}")
    out_c, _, kh, kw = kernel.shape
    dh, dw = a.get("dilations", [1, 1])
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    h = (shape[1] + pt + pb - dh * (kh - 1) - 1) // sh + 1
    w = (shape[2] + pl + pr - dw * (kw - 1) - 1) // sw + 1
    params = {0: out_c, 1: kw, 11: kh, 2: dw, 12: dh, 3: sw, 13: sh, 4: pl, 15: pr, 14: pt, 16: pb}
    blobs = [b"\0\0\0\0" + kernel.tobytes()]
    if len(node.input) > 2 and node.input[2]:
        params[5] = 1
        if node.input[2] not in initializers:
            raise UnsupportedGraphError(f"Conv {node.name}: the bias is not a constant")
        blobs.append(np.ascontiguousarray(numpy_helper.to_array(initializers[node.input[2]]), dtype="<f4").tobytes())
    else:
        params[5] = 0
    params[6] = kernel.size
    params[31] = conv_featmask(out_c, shape[0])
    return _Layer("Convolution", name, [node.input[0]], [], params, blobs), (out_c, h, w)


def conv_featmask(out_channels: int, in_channels: int) -> int:
    """The convolution algorithms ncnn may pick for one layer (param 31), by its channel counts.

    ncnn shares a Winograd convolution between threads by tiles of output channels, and on
    AVX-512 a tile holds 16, so a layer with one output runs on one thread; Winograd also
    transforms every input plane, which does not pay on 3 of them. Two kinds of layer therefore
    get the direct kernel (neither Winograd nor im2col+GEMM), measured layer by layer on a
    2-thread u2netp run:

    - one output channel (U^2-Net's side outputs and their fusion): 64 -> 1 at 320x320 went from
      12.3 to 4.8 ms, at 160x160 from 2.6 to 0.8 ms;
    - fewer than 8 input channels (the RGB input layer; ncnn's own threshold only asks for more
      than 8 inputs *or* outputs): 3 -> 64 at 320x320 from 8.2 to 6.9 ms. im2col+GEMM took 5.2 ms
      but raised the run's peak RSS by 36 MB.

    A whole u2netp run went from 191-196 to 179-180 ms (u2net 401 to 379 ms); outputs moved by
    under 1e-6. Every other layer keeps Winograd without im2col+GEMM (FEATMASK_NO_SGEMM).
    """
    if out_channels == 1 or in_channels < 8:
        return FEATMASK_NO_SGEMM | FEATMASK_NO_WINOGRAD
    return FEATMASK_NO_SGEMM


def _split_wide_concat_convs(
    layers: list[_Layer], shapes: dict[str, tuple[int, int, int]], outputs: set[str]
) -> list[_Layer]:
    """Concat -> Convolution becomes one Convolution per part, summed, then the ReLU (see
    SPLIT_CONCAT_MIN_ELEMENTS): the same sum of products, without the concatenated map, where
    that map is large and wider than the convolution's output."""
    producer = {out: layer for layer in layers for out in layer.outputs}
    readers = _reader_counts(layers)
    result: list[_Layer] = []
    split: set[str] = set()
    for layer in layers:
        concat = producer.get(layer.inputs[0]) if layer.kind == "Convolution" else None
        joined = layer.inputs[0] if concat is not None else ""
        if (
            concat is None
            or concat.kind != "Concat"
            or len(concat.inputs) < 2
            or readers[joined] != 1
            or joined in outputs
            or math.prod(shapes[joined]) < SPLIT_CONCAT_MIN_ELEMENTS
            or shapes[joined][0] <= layer.params[0]  # no wider than the output: nothing saved
        ):
            result.append(layer)
            continue
        out_c, kh, kw = layer.params[0], layer.params[11], layer.params[1]
        in_c = shapes[joined][0]
        kernel = np.frombuffer(layer.blobs[0], dtype="<f4", offset=4).reshape(out_c, in_c, kh, kw)
        relu = layer.params.get(9) == 1
        running = ""  # the sum of the parts so far
        start = 0
        for index, part in enumerate(concat.inputs):
            channels = shapes[part][0]
            params = {k: v for k, v in layer.params.items() if k != 9}  # the ReLU comes after the sum
            params[6] = out_c * channels * kh * kw
            params[31] = conv_featmask(out_c, channels)
            blobs = [b"\0\0\0\0" + np.ascontiguousarray(kernel[:, start : start + channels]).tobytes()]
            last = index == len(concat.inputs) - 1
            if last and layer.params[5]:
                blobs.append(layer.blobs[1])  # the bias once, on the last part
            else:
                params[5] = 0
            name = f"{layer.name}_part{index}"
            result.append(_Layer("Convolution", name, [part], [name], params, blobs))
            start += channels
            if running:
                total = layer.outputs[0] if last and not relu else f"{name}_sum"
                result.append(_Layer("BinaryOp", f"{name}_add", [running, name], [total], {0: 0}))
                running = total
            else:
                running = name
        if relu:
            result.append(_Layer("ReLU", f"{layer.name}_relu", [running], list(layer.outputs)))
        split.add(joined)
    return [layer for layer in result if not (layer.kind == "Concat" and layer.outputs[0] in split)]


def _pool(node: Any, a: dict[str, Any], shape: tuple[int, int, int], name: str) -> tuple[_Layer, tuple[int, int, int]]:
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    if a.get("dilations", [1, 1]) != [1, 1] or a.get("storage_order", 0):
        raise UnsupportedGraphError(f"MaxPool {node.name}: dilation or storage order is not translated")
    ceil = bool(a.get("ceil_mode", 0))
    rounding = math.ceil if ceil else math.floor
    h = int(rounding((shape[1] + pt + pb - kh) / sh)) + 1
    w = int(rounding((shape[2] + pl + pr - kw) / sw)) + 1
    # pad_mode 0 ("full") is Caffe's ceil rounding, 1 ("valid") is floor.
    params = {0: 0, 1: kw, 11: kh, 2: sw, 12: sh, 3: pl, 13: pt, 14: pr, 15: pb, 5: 0 if ceil else 1}
    return _Layer("Pooling", name, [node.input[0]], [node.output[0]], params), (shape[0], h, w)


def _resize(
    node: Any, a: dict[str, Any], shapes: dict[str, tuple[int, int, int]], producer: dict[str, Any], name: str
) -> tuple[_Layer, tuple[int, int, int]]:
    """Bilinear, half-pixel ``Resize`` to another tensor's size: the form checked against ONNX Runtime."""
    src = node.input[0]
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    coord = a.get("coordinate_transformation_mode", b"half_pixel")
    coord = coord.decode() if isinstance(coord, bytes) else coord
    if mode != "linear" or coord not in ("half_pixel", "pytorch_half_pixel"):
        raise UnsupportedGraphError(f"Resize {node.name}: mode {mode}/{coord} is not translated")
    size = None
    if len(node.input) >= 4 and node.input[3]:
        size = _size_from_shape_of(node.input[3], src, shapes, producer)
    if size is None:
        raise UnsupportedGraphError(f"Resize {node.name}: the target size is not another tensor's size")
    params = {0: 2, 3: size[0], 4: size[1], 6: 0}
    return _Layer("Interp", name, [src], [node.output[0]], params), (shapes[src][0], *size)


def _size_from_shape_of(
    sizes: str, src: str, shapes: dict[str, tuple[int, int, int]], producer: dict[str, Any]
) -> tuple[int, int] | None:
    """The (H, W) of the tensor whose ``Shape`` feeds ``sizes`` (other than ``src``, the resized one)."""
    seen: set[str] = set()
    stack = [sizes]
    refs: list[str] = []
    while stack:
        name = stack.pop()
        if name in seen or name not in producer:
            continue
        seen.add(name)
        node = producer[name]
        if node.op_type == "Shape":
            refs.append(node.input[0])
            continue
        if node.op_type not in SHAPE_OPS:
            return None
        stack.extend(node.input)
    others = {r for r in refs if r != src and r in shapes}
    if len(others) != 1:
        return None
    ref = shapes[others.pop()]
    return (ref[1], ref[2])


def _reader_counts(layers: list[_Layer]) -> defaultdict[str, int]:
    """How many layers read each blob."""
    readers: defaultdict[str, int] = defaultdict(int)
    for layer in layers:
        for name in layer.inputs:
            readers[name] += 1
    return readers


def _serialise(
    layers: list[_Layer], in_name: str, outputs: list[str], input_shape: tuple[int, int, int, int]
) -> NcnnNet:
    """Add the Split layers ncnn wants, number the blobs and write both files' contents."""
    readers = _reader_counts(layers)
    for name in outputs:
        readers[name] += 1
    final: list[_Layer] = []
    copies: dict[str, list[str]] = {}
    for layer in layers:
        layer.inputs = [copies[n].pop() if n in copies else n for n in layer.inputs]
        final.append(layer)
        for out in layer.outputs:
            if readers[out] > 1:
                names = [f"{out}_s{i}" for i in range(readers[out])]
                final.append(_Layer("Split", f"split_{out}", [out], names))
                copies[out] = names[::-1]
    output_blobs = [copies[n].pop() if n in copies else n for n in outputs]
    ids: dict[str, str] = {}

    def blob(name: str) -> str:
        return ids.setdefault(name, f"b{len(ids)}")

    lines = []
    for layer in final:
        ins = " ".join(blob(n) for n in layer.inputs)
        outs = " ".join(blob(n) for n in layer.outputs)
        params = " ".join(f"{k}={v}" for k, v in layer.params.items())
        lines.append(
            f"{layer.kind} {layer.name} {len(layer.inputs)} {len(layer.outputs)} {ins} {outs} {params}".rstrip()
        )
    param = f"{MAGIC}\n{len(final)} {len(ids)}\n" + "\n".join(lines) + "\n"
    weights = b"".join(b for layer in final for b in layer.blobs)
    return NcnnNet(param, weights, ids[in_name], [ids[n] for n in output_blobs], input_shape)

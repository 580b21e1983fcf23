# ruff: noqa: E402
"""Runs INSIDE GIMP (``gimp-console-3.0 --batch-interpreter python-fu-eval``) for the e2e tests.

Reads the job file named by ``PIXCUT_GIMP_JOB`` (JSON: ``report`` path and ``cases``), runs each
case against a freshly loaded image and writes a JSON report plus raw pixel dumps; the pytest side
(host Python) makes the assertions. Batching cases into one GIMP start keeps the tests fast.

A case: ``{"id", "file", "procedure", "args": {...}, "out_dir", "precision"?, "offsets"?,
"canvas"?, "select_all"?}``.
"""

import hashlib
import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio

RGBA = "R'G'B'A u8"
GRAY = "Y u8"


def dump(drawable, path, fmt):
    """Write the drawable's pixels (its own buffer, not the composite) as raw bytes; return their sha256."""
    width, height = drawable.get_width(), drawable.get_height()
    data = drawable.get_buffer().get(Gegl.Rectangle.new(0, 0, width, height), 1.0, fmt, Gegl.AbyssPolicy.NONE)
    data = bytes(data)
    if path:
        with open(path, "wb") as handle:
            handle.write(data)
    return hashlib.sha256(data).hexdigest()


def describe(image, layer, out_dir, tag):
    """Name, stack position, offsets, size of a layer, and dumps of its pixels (and mask)."""
    info = {
        "name": layer.get_name(),
        "position": image.get_item_position(layer),
        "offsets": list(layer.get_offsets()[1:]),
        "size": [layer.get_width(), layer.get_height()],
        "has_alpha": layer.has_alpha(),
        "pixels": os.path.join(out_dir, f"{tag}.rgba"),
    }
    dump(layer, info["pixels"], RGBA)
    mask = layer.get_mask()
    if mask is not None:
        info["mask"] = os.path.join(out_dir, f"{tag}-mask.gray")
        dump(mask, info["mask"], GRAY)
    return info


def stack(image):
    """The top-level layer stack: (name, offsets, size, pixel hash), top first."""
    return [
        [
            layer.get_name(),
            list(layer.get_offsets()[1:]),
            [layer.get_width(), layer.get_height()],
            dump(layer, None, RGBA),
        ]
        for layer in image.get_layers()
    ]


def add_neighbours(image, layer):
    """A layer above and one below the source, so "directly above the source" means something."""
    rgb = image.get_base_type() == Gimp.ImageBaseType.RGB
    kind = Gimp.ImageType.RGBA_IMAGE if rgb else Gimp.ImageType.GRAYA_IMAGE
    for name, position in (("Bottom", 1), ("Top", 0)):
        extra = Gimp.Layer.new(image, name, 16, 16, kind, 100.0, Gimp.LayerMode.NORMAL)
        image.insert_layer(extra, None, position)


def load(case):
    """Load the case's image and apply its set-up (precision, canvas and layer offsets, selection)."""
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(case["file"]))
    layer = image.get_layers()[0]
    layer.set_name(case.get("layer_name", layer.get_name()))
    if case.get("canvas"):
        image.resize(case["canvas"][0], case["canvas"][1], 0, 0)
    if case.get("offsets"):
        layer.set_offsets(*case["offsets"])
    if case.get("extra_layers"):
        add_neighbours(image, layer)
    if case.get("precision"):
        image.convert_precision(getattr(Gimp.Precision, case["precision"]))
    if case.get("select_all"):
        Gimp.Selection.all(image)
    return image, layer


def run_case(case):
    """One procedure call and everything the test needs to judge it."""
    out_dir = case["out_dir"]
    os.makedirs(out_dir, exist_ok=True)
    image, source = load(case)
    result = {"id": case["id"], "base_type": str(image.get_base_type()), "precision": str(image.get_precision())}
    try:
        result["source_before"] = describe(image, source, out_dir, "source-before")
        result["stack_before"] = stack(image)
        result["selection_before"] = dump(image.get_selection(), None, GRAY)
        procedure = Gimp.get_pdb().lookup_procedure(case["procedure"])
        config = procedure.create_config()
        config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
        config.set_property("image", image)
        config.set_core_object_array("drawables", [source])
        for key, value in case.get("args", {}).items():
            config.set_property(key, value)
        started = time.monotonic()
        values = procedure.run(config)
        result["seconds"] = time.monotonic() - started  # the whole action: export, pixcut, insertion
        result["status"] = values.index(0).value_nick
        error = values.index(1) if values.length() > 1 else None
        result["error"] = error if isinstance(error, str) else getattr(error, "message", None)
        result["error_type"] = type(error).__name__
        result["stack_after"] = stack(image)
        result["source_after"] = describe(image, source, out_dir, "source-after")
        result["layers"] = [describe(image, layer, out_dir, f"layer{i}") for i, layer in enumerate(image.get_layers())]
        selection = image.get_selection()
        result["selection_empty"] = Gimp.Selection.is_empty(image)
        result["selection"] = os.path.join(out_dir, "selection.gray")
        result["selection_after"] = dump(selection, result["selection"], GRAY)
        result["image_size"] = [image.get_width(), image.get_height()]
    finally:
        image.delete()
    return result


def main():
    with open(os.environ["PIXCUT_GIMP_JOB"], encoding="utf-8") as handle:
        job = json.load(handle)
    report = {"registered": {}, "cases": []}
    pdb = Gimp.get_pdb()
    for name in job.get("procedures", []):
        report["registered"][name] = pdb.lookup_procedure(name) is not None
    for case in job.get("cases", []):
        try:
            report["cases"].append(run_case(case))
        except Exception:  # the report carries the traceback to pytest
            report["cases"].append({"id": case["id"], "crash": traceback.format_exc()})
    with open(job["report"], "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)


main()

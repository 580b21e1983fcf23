"""End-to-end: the plug-in in a real GIMP 3.0 (trixie chroot), running the real host ``pixcut``.

Success cases use the offline backend; each cutout's alpha is compared with what ``pixcut remove``
gives when run directly on the very PNG the plug-in exported (kept via ``PIXCUT_GIMP_DEBUG_DIR``).
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support_hosts import serving, upgraded_pixcut

pytestmark = pytest.mark.gimp

REPO = Path(__file__).resolve().parents[2]
MAIN = "plug-in-pixcut-remove-background"
REPEAT = "plug-in-pixcut-remove-background-repeat"


# --- inputs -----------------------------------------------------------------------------------


def make_inputs(folder: Path) -> dict[str, Path]:
    """An RGB JPEG (a photo), an RGBA PNG, a grayscale PNG and an object on a plain background."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.open(REPO / "docs" / "samples" / "astronaut.jpg").convert("RGB").resize((192, 192))
    photo.save(folder / "photo.jpg", quality=90)
    rgba = Image.new("RGBA", (160, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(rgba)
    draw.ellipse((30, 20, 120, 110), fill=(40, 90, 200, 255))
    draw.rectangle((100, 10, 150, 60), fill=(230, 200, 40, 200))
    rgba.save(folder / "rgba.png")
    photo.convert("L").resize((128, 128)).save(folder / "gray.png")
    scene = Image.new("RGB", (240, 180), (245, 245, 240))
    draw = ImageDraw.Draw(scene)
    draw.ellipse((120, 50, 200, 140), fill=(180, 30, 30))
    draw.rectangle((150, 20, 170, 60), fill=(30, 120, 30))
    scene.save(folder / "object.png")
    return {p.stem: p for p in folder.iterdir()}


def success_cases(inputs: dict[str, Path], out: Path, endpoint: str) -> list[dict]:
    def case(case_id: str, file: str, **extra) -> dict:
        return {
            "id": case_id,
            "file": str(inputs[file]),
            "procedure": MAIN,
            "args": {"backend": "local"},
            "out_dir": str(out / case_id),
            **extra,
        }

    return [
        case("rgb-jpeg", "photo"),
        case("rgba-offsets", "rgba", canvas=[400, 300], offsets=[70, 50], extra_layers=True, layer_name="Logo"),
        case("grayscale", "gray"),
        case("float-precision", "rgba", canvas=[300, 200], offsets=[-20, 30], precision="FLOAT_LINEAR"),
        case("mask", "photo", select_all=True, args={"backend": "local", "output-mode": "mask"}),
        case(
            "selection",
            "rgba",
            canvas=[400, 300],
            offsets=[70, 50],
            args={"backend": "local", "output-mode": "selection"},
        ),
        case(
            "crop-margin",
            "object",
            canvas=[500, 400],
            offsets=[100, 60],
            args={"backend": "local", "crop-to-foreground": True, "margin": "10px"},
        ),
        {**case("repeat", "gray"), "procedure": REPEAT, "args": {}},
        case("model", "photo", args={"backend": "local", "model": "u2netp"}),
        # Mask and selection modes with every layer-only option set: they must not change the matte.
        case(
            "mask-finishing",
            "object",
            canvas=[500, 400],
            offsets=[100, 60],
            select_all=True,
            args={"backend": "local", "output-mode": "mask", "background-color": "#FFFFFF", "target-size": "300 300"},
        ),
        case(
            "selection-finishing",
            "object",
            canvas=[500, 400],
            offsets=[100, 60],
            args={
                "backend": "local",
                "output-mode": "selection",
                "background-color": "#FFFFFF",
                "target-size": "300 300",
                "crop-to-foreground": True,
            },
        ),
        # A no-auth `pixcut serve` on this machine, no credentials configured anywhere.
        case("serve-endpoint", "object", args={"backend": "endpoint", "endpoint": endpoint}),
        # Errors from the real core or the plug-in itself: they must leave the image as it was.
        error_case("short-colour", inputs, out, {"background-color": "#fff"}, exports=True),
        error_case("eight-digit-colour", inputs, out, {"background-color": "#ff000080"}, exports=True),
        error_case("unreachable", inputs, out, {"backend": "endpoint", "endpoint": UNREACHABLE}, exports=True),
        error_case("no-consent", inputs, out, {"backend": "pixian"}),
        error_case("no-endpoint-url", inputs, out, {"backend": "endpoint", "endpoint": ""}),
    ]


UNREACHABLE = "http://127.0.0.1:9/api/v2/remove-background"  # the discard port: nothing listens


def error_case(case_id: str, inputs: dict[str, Path], out: Path, args: dict, exports: bool = False) -> dict:
    """A case on a multi-layer image with offsets and a selection, expected to fail cleanly."""
    return {
        "id": case_id,
        "file": str(inputs["rgba"]),
        "procedure": MAIN,
        "args": args,
        "canvas": [300, 200],
        "offsets": [10, 20],
        "extra_layers": True,
        "select_all": True,
        "out_dir": str(out / case_id),
        "reference": False,
        "exports": exports,
    }


# --- helpers ----------------------------------------------------------------------------------


def raw_alpha(path: str, size: list[int]) -> Image.Image:
    """The alpha channel of a raw R'G'B'A u8 dump."""
    return Image.frombytes("RGBA", tuple(size), Path(path).read_bytes()).getchannel("A")


def raw_gray(path: str, size: list[int]) -> Image.Image:
    return Image.frombytes("L", tuple(size), Path(path).read_bytes())


def max_difference(a: Image.Image, b: Image.Image) -> int:
    """Largest per-pixel difference of two same-size 8-bit images."""
    assert a.size == b.size, (a.size, b.size)
    return max(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes(), strict=True))


def reference_runs(pixcut: Path, debug: Path, cases: list[dict], out: Path) -> dict[str, dict]:
    """Replay each kept export with ``pixcut remove`` directly (grouped by flags: few model loads)."""
    stamps = sorted((p.name[len("input-") : -len(".png")] for p in debug.glob("input-*.png")), key=int)
    exporting = [case for case in cases if case.get("exports", True)]
    assert len(stamps) == len(exporting), f"expected {len(exporting)} exports, found {len(stamps)}"
    groups: dict[tuple[str, ...], list[tuple[str, Path]]] = defaultdict(list)
    for case, stamp in zip(exporting, stamps, strict=True):
        if not case.get("reference", True):
            continue
        command = (debug / f"command-{stamp}.txt").read_text().split("\n")[:-1]
        flags = tuple(command[command.index("--json") + 1 :])
        source = out / case["id"] / f"{case['id']}.png"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes((debug / f"input-{stamp}.png").read_bytes())
        groups[flags].append((case["id"], source))
    references: dict[str, dict] = {}
    for flags, members in groups.items():
        target = out / ("ref-" + "-".join(case_id for case_id, _ in members))
        command = [str(pixcut), "remove", *[str(s) for _, s in members], "--out-dir", str(target), "--json", *flags]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        by_input = {e["input"]: e for e in events if e["event"] == "result"}
        assert result.returncode == 0, result.stdout + result.stderr
        for case_id, source in members:
            event = by_input[str(source)]
            references[case_id] = {**event, "alpha": matte(event["output"]), "source": source, "flags": flags}
    return references


def matte(path: str) -> Image.Image:
    """The alpha of a cutout, or the mask itself (``--output-type mask`` writes an 8-bit grey PNG)."""
    image = Image.open(path)
    return image.getchannel("A") if image.mode in ("RGBA", "LA") else image.convert("L")


def plain_alpha(pixcut: Path, source: Path) -> Image.Image:
    """The cutout alpha of ``pixcut remove`` with no option at all, on the offline engine."""
    target = source.with_name(source.stem + "-plain.png")
    command = [str(pixcut), "remove", str(source), "-o", str(target), "--json", "--backend", "local"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return matte(str(target))


@pytest.fixture(scope="module")
def serve_endpoint(gimp_session):
    """A real ``pixcut serve`` without auth on a free loopback port (GIMP's chroot shares the network)."""
    with serving(gimp_session.pixcut, gimp_session.work / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def success(gimp_session, serve_endpoint):
    """One GIMP run for all success cases, then the direct ``pixcut remove`` references."""
    out = gimp_session.work / "success"
    inputs = make_inputs(gimp_session.work / "inputs")
    cases = success_cases(inputs, out, serve_endpoint)
    debug = out / "exports"
    report = gimp_session.run("success", cases, env={"PIXCUT_GIMP_DEBUG_DIR": str(debug)})
    results = {c["id"]: c for c in report["cases"]}
    for result in results.values():
        assert "crash" not in result, result["crash"]
    references = reference_runs(gimp_session.pixcut, debug, cases, out / "reference")
    return results, references


def check_new_layer(result: dict, reference: dict, name: str, position: int, offsets: list[int]) -> dict:
    """The common assertions on the inserted cutout layer; returns its description."""
    assert result["status"] == "success", result["error"]
    layer = result["layers"][position]
    assert layer["name"] == name
    assert layer["position"] == position
    assert layer["offsets"] == offsets
    assert layer["size"] == list(reference["result_size"])
    assert max_difference(raw_alpha(layer["pixels"], layer["size"]), reference["alpha"]) <= 1
    return layer


def check_source_untouched(result: dict, position: int) -> None:
    before, after = result["source_before"], result["source_after"]
    assert after["position"] == position
    for key in ("name", "offsets", "size"):
        assert after[key] == before[key], key
    assert Path(after["pixels"]).read_bytes() == Path(before["pixels"]).read_bytes()


# --- success cases ----------------------------------------------------------------------------


def test_rgb_jpeg_gets_a_cutout_layer_above_the_source(success):
    results, refs = success
    result = results["rgb-jpeg"]
    check_new_layer(result, refs["rgb-jpeg"], "Background (cutout)", 0, [0, 0])
    check_source_untouched(result, 1)
    assert len(result["layers"]) == 2
    assert result["selection_after"] == result["selection_before"]


def test_rgba_png_with_offsets_goes_directly_above_at_the_offsets(success):
    results, refs = success
    result = results["rgba-offsets"]
    assert [s[0] for s in result["stack_before"]] == ["Top", "Logo", "Bottom"]
    assert [s[0] for s in result["stack_after"]] == ["Top", "Logo (cutout)", "Logo", "Bottom"]
    check_new_layer(result, refs["rgba-offsets"], "Logo (cutout)", 1, [70, 50])
    check_source_untouched(result, 2)
    assert result["stack_after"][0] == result["stack_before"][0]
    assert result["stack_after"][3] == result["stack_before"][2]


def test_grayscale_image(success):
    results, refs = success
    result = results["grayscale"]
    assert "GIMP_GRAY" in result["base_type"]
    check_new_layer(result, refs["grayscale"], "Background (cutout)", 0, [0, 0])
    check_source_untouched(result, 1)


def test_high_precision_image_with_negative_offsets(success):
    results, refs = success
    result = results["float-precision"]
    assert "FLOAT_LINEAR" in result["precision"]
    check_new_layer(result, refs["float-precision"], "Background (cutout)", 0, [-20, 30])
    check_source_untouched(result, 1)


def test_mask_mode_masks_a_copy_and_keeps_the_selection(success):
    results, refs = success
    result = results["mask"]
    assert result["status"] == "success", result["error"]
    copy = result["layers"][0]
    assert (copy["name"], copy["position"], copy["offsets"], copy["size"]) == (
        "Background (cutout)",
        0,
        [0, 0],
        result["source_before"]["size"],
    )
    assert max_difference(raw_gray(copy["mask"], copy["size"]), refs["mask"]["alpha"]) <= 1
    source_bytes = Path(result["source_before"]["pixels"]).read_bytes()
    source_rgb = Image.frombytes("RGBA", tuple(copy["size"]), source_bytes)
    copy_rgb = Image.frombytes("RGBA", tuple(copy["size"]), Path(copy["pixels"]).read_bytes())
    assert copy_rgb.convert("RGB").tobytes() == source_rgb.convert("RGB").tobytes()
    check_source_untouched(result, 1)
    assert result["selection_after"] == result["selection_before"]  # select-all restored


def test_selection_mode_selects_the_cutout_alpha_and_adds_no_layer(success):
    results, refs = success
    result = results["selection"]
    assert result["status"] == "success", result["error"]
    assert result["stack_after"] == result["stack_before"]
    assert not result["selection_empty"]
    selection = raw_gray(result["selection"], result["image_size"])
    width, height = refs["selection"]["result_size"]
    inside = selection.crop((70, 50, 70 + width, 50 + height))
    assert max_difference(inside, refs["selection"]["alpha"]) <= 1
    outside = selection.copy()
    outside.paste(0, (70, 50, 70 + width, 50 + height))
    assert outside.getextrema() == (0, 0)


def test_crop_and_margin_place_the_foreground_where_it_was(success):
    results, refs = success
    ref = refs["crop-margin"]
    in_top, in_left = ref["input_foreground"][:2]
    res_top, res_left = ref["result_foreground"][:2]
    assert ref["result_size"] != ref["input_size"]  # the crop really changed the geometry
    expected = [100 + in_left - res_left, 60 + in_top - res_top]
    check_new_layer(results["crop-margin"], ref, "Background (cutout)", 0, expected)
    check_source_untouched(results["crop-margin"], 1)


def test_a_model_from_the_menu_is_passed_to_pixcut(success):
    results, refs = success
    assert refs["model"]["flags"][-2:] == ("--model", "u2netp")
    check_new_layer(results["model"], refs["model"], "Background (cutout)", 0, [0, 0])


def test_repeat_entry_runs_without_a_dialog(success):
    results, refs = success
    check_new_layer(results["repeat"], refs["repeat"], "Background (cutout)", 0, [0, 0])


def test_mask_mode_ignores_background_colour_and_target_size(success, gimp_session):
    """Mask = the plain alpha at the layer's size, whatever the layer-only options say (issue 15)."""
    results, refs = success
    result = results["mask-finishing"]
    assert result["status"] == "success", result["error"]
    copy = result["layers"][0]
    assert (copy["name"], copy["offsets"], copy["size"]) == ("Background (cutout)", [100, 60], [240, 180])
    plain = plain_alpha(gimp_session.pixcut, refs["mask-finishing"]["source"])
    assert plain.size == (240, 180)
    assert max_difference(raw_gray(copy["mask"], copy["size"]), plain) <= 1
    assert "--background-color" not in refs["mask-finishing"]["flags"]
    check_source_untouched(result, 1)
    assert result["selection_after"] == result["selection_before"]


def test_selection_mode_ignores_the_layer_only_options(success, gimp_session):
    results, refs = success
    result = results["selection-finishing"]
    assert result["status"] == "success", result["error"]
    assert result["stack_after"] == result["stack_before"]
    plain = plain_alpha(gimp_session.pixcut, refs["selection-finishing"]["source"])
    selection = raw_gray(result["selection"], result["image_size"])
    assert max_difference(selection.crop((100, 60, 340, 240)), plain) <= 1
    outside = selection.copy()
    outside.paste(0, (100, 60, 340, 240))
    assert outside.getextrema() == (0, 0)


def test_a_no_auth_pixcut_serve_endpoint_works_without_credentials(success, gimp_session):
    results, refs = success
    result = results["serve-endpoint"]
    assert refs["serve-endpoint"]["flags"][:4] == ("--format", "png", "--backend", "pixian")
    layer = check_new_layer(result, refs["serve-endpoint"], "Background (cutout)", 0, [0, 0])
    plain = plain_alpha(gimp_session.pixcut, refs["serve-endpoint"]["source"])
    assert max_difference(raw_alpha(layer["pixels"], layer["size"]), plain) <= 1  # the server's engine = local


# --- error cases ------------------------------------------------------------------------------

FAKE = Path(__file__).resolve().parent / "fake_pixcut.py"


def check_failed_cleanly(result: dict, message: str) -> None:
    """EXECUTION_ERROR with the expected message; layers, pixels and selection exactly as before."""
    assert "crash" not in result, result["crash"]
    assert result["status"] == "execution-error", result
    assert message in (result["error"] or ""), result["error"]
    assert result["stack_after"] == result["stack_before"]
    assert result["selection_after"] == result["selection_before"]


@pytest.mark.parametrize(
    "case_id,message",
    [
        # the real core's own message, unchanged: one colour rule
        (
            "short-colour",
            "OptionsError: background.color: expected '#RRGGBB' with the '#' (e.g. '#0055FF'), got '#fff'",
        ),
        ("eight-digit-colour", "OptionsError: background.color: expected '#RRGGBB'"),
        ("unreachable", "NetworkError: http://127.0.0.1:9/api/v2/remove-background could not be reached"),
        ("no-consent", "needs consent"),
        ("no-endpoint-url", "needs an endpoint URL"),
    ],
)
def test_core_and_plugin_errors_leave_the_image_unchanged(success, gimp_session, case_id, message):
    results, _ = success
    check_failed_cleanly(results[case_id], message)
    assert not (gimp_session.profile / "pixcut-cloud-consent.json").exists()


def test_an_unreachable_endpoint_is_reported_within_seconds(success):
    seconds = success[0]["unreachable"]["seconds"]
    print(f"\nGIMP: unreachable endpoint reported after {seconds:.2f} s (export, pixcut start, retries)")
    assert seconds < 5.0


def test_unreadable_output_and_backend_errors_leave_the_image_unchanged(gimp_session):
    """A fake core (``PIXCUT_EXECUTABLE``): unreadable output, an error event, a crash."""
    inputs = make_inputs(gimp_session.work / "inputs")
    out = gimp_session.work / "errors"
    fake = gimp_session.work / "fake-pixcut"
    fake.write_text(f"#!{gimp_session.pixcut.parent / 'python'}\n" + FAKE.read_text())
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    report = gimp_session.run(
        "errors-fake",
        [
            error_case("garbage", inputs, out, {}),
            error_case("backend-error", inputs, out, {"test": True}),
            error_case("crash", inputs, out, {"margin": "5px"}),
        ],
        env={"PIXCUT_EXECUTABLE": str(fake)},
    )
    results = {c["id"]: c for c in report["cases"]}
    check_failed_cleanly(results["garbage"], "no readable result (exit code 0)")
    check_failed_cleanly(results["backend-error"], "AuthError: Invalid API credentials (fake)")
    check_failed_cleanly(results["crash"], "RuntimeError: fake crash")


def test_after_an_upgrade_the_plugin_names_the_refresh_command(gimp_session):
    """pixcut upgraded under the installed plug-in: the run works and GIMP shows the one refresh command."""
    import pixcut

    inputs = make_inputs(gimp_session.work / "inputs")
    upgraded = upgraded_pixcut(gimp_session.work / "upgrade", gimp_session.pixcut.parent / "python")
    case = {
        "id": "upgraded",
        "file": str(inputs["object"]),
        "procedure": MAIN,
        "args": {"backend": "local"},
        "out_dir": str(gimp_session.work / "upgrade" / "out"),
    }
    report = gimp_session.run("upgraded", [case], env={"PIXCUT_EXECUTABLE": str(upgraded)})
    assert report["cases"][0]["status"] == "success", report["cases"][0]
    output = (gimp_session.work / "upgraded" / "gimp-output.txt").read_text()
    notice = (
        f"The gimp plug-in was installed by pixcut {pixcut.__version__}, but pixcut 99.0.0 is running. "
        f"Refresh it with: {upgraded} hosts install gimp"
    )
    assert notice in output, output

"""Issue 8 item 1: the result size is bounded (options.MAX_RESULT_PIXELS) before any canvas is allocated.

One rule in options.py, reached from the Python API, the finishing and the CLI (the server's side is in
tests/server/test_serve_hardening.py).
"""

import os
import subprocess
import sys

import pytest
from support import cutout_with_box

from pixcut.errors import OptionsError, ResultTooLargeError
from pixcut.finishing import finish
from pixcut.options import MAX_RESULT_PIXELS, RemovalOptions


@pytest.mark.parametrize("margin", ["100000%", "99999999999999999999px", "1px 2px 3px 40000px"])
def test_absurd_margins_are_refused_when_parsed(margin):
    with pytest.raises(OptionsError, match="result.margin: .* too large"):
        RemovalOptions(margin=margin)


def test_a_target_size_over_the_result_limit_is_refused_when_parsed():
    with pytest.raises(ResultTooLargeError, match="25,000,000") as info:
        RemovalOptions(target_size="25000 25000")
    assert (info.value.status, info.value.code) == (400, 1103)
    RemovalOptions(target_size="5000 5000")  # exactly the limit is fine


def test_a_margin_making_the_result_too_large_is_refused_before_allocating():
    cutout = cutout_with_box((400, 300), (100, 100, 200, 200))
    with pytest.raises(ResultTooLargeError, match=r"10400x10300 = 107,120,000 pixels"):
        finish(cutout, RemovalOptions(margin="5000px"))  # would be a 429 MB canvas
    with pytest.raises(ResultTooLargeError):
        finish(cutout, RemovalOptions(margin="1000%"))
    # cropping first makes the same margin fit: the rule is about the result, not the option
    small = finish(cutout, RemovalOptions(crop_to_foreground=True, margin="2000px"))
    assert small.image.size == (4100, 4100) and 4100 * 4100 <= MAX_RESULT_PIXELS


def pixcut(*args):
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *map(str, args)], capture_output=True, text=True, timeout=180, env=os.environ
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--target-size", "25000 25000"], "largest result is 25,000,000 pixels (code 1103)"),
        (["--margin", "99999999999999999999px"], "is too large; at most 25000px per side"),
        (["--margin", "5000px"], "largest result is 25,000,000 pixels (code 1103)"),
    ],
    ids=["target-size", "absurd-margin", "margin-over-limit"],
)
def test_cli_refuses_an_oversized_result_with_exit_2_and_one_line(tmp_path, photo_path, flags, expected):
    out = tmp_path / "out.png"
    proc = pixcut("remove", photo_path, "-o", out, *flags)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("done:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr
    assert expected in lines[0], lines[0]
    assert not out.exists()

"""The CLI's reporters outlive the reader of their stream (a closed pipe)."""

from __future__ import annotations

import io
import os

import pytest

from pixcut.cli.reporting import HumanReporter, JsonReporter


@pytest.mark.parametrize("make", [JsonReporter, lambda stream: HumanReporter(stream)])
def test_a_closed_pipe_closes_the_reporter_once(make):
    read_end, write_end = os.pipe()
    stream = io.TextIOWrapper(os.fdopen(write_end, "wb"), encoding="utf-8")
    reporter = make(stream)
    calls = []
    reporter.on_close = lambda: calls.append(1)
    error = {"event": "error", "input": "a.png", "error": {"message": "bad", "code": 1006}}
    reporter(error)
    assert os.read(read_end, 4096)  # the line reached the reader
    os.close(read_end)
    reporter(error)  # the reader is gone: no exception
    reporter(error)
    assert reporter.closed and calls == [1]
    stream.write("x" * 100_000)
    stream.flush()  # the descriptor now leads to os.devnull: Python's flush at exit cannot fail
    stream.close()

"""How batch events reach the user: JSON lines for machines, a progress bar or lines for people."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO


def error_text(error: dict[str, Any]) -> str:
    """The human form of an error object: its message, and the API's code to look it up by
    (``code 1006``; the table is in docs/server.md), which ``--json`` already carries.

    A plain usage error (``OptionsError``, 1100: a flag's value) names its flag already; no code.
    """
    message = str(error.get("message") or error.get("type") or "unknown error")
    code = error.get("code")
    if not isinstance(code, int) or error.get("type") == "OptionsError":
        return message
    return f"{message} (code {code})"


#: The exit status after the reader of the events went away (``pixcut remove --json | head``): what
#: a shell reports for a command ended by SIGPIPE, 128 + 13, as for ``cat`` or ``grep``.
EXIT_READER_GONE = 141


class StreamReporter:
    """Writes whole lines to a stream, and outlives the stream's reader.

    When the reader of a pipe exits, a write raises ``BrokenPipeError`` in whichever worker thread
    reported; uncaught, it killed that worker and left the batch waiting for it. Here the first such
    error marks the reporter ``closed``, points the descriptor at ``os.devnull`` (so Python's own
    flush at exit does not fail again) and calls ``on_close``: the CLI stops the batch there, as
    SIGPIPE stops ``cat``, and the items in flight finish writing their outputs atomically.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed = False
        self.on_close: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        """Report one event (each reporter's own form)."""
        raise NotImplementedError

    def _write(self, text: str) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                self.stream.write(text)
                self.stream.flush()
            except BrokenPipeError:
                self.closed = True
                self._silence()
        if self.closed and self.on_close is not None:
            self.on_close()

    def _silence(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # a stream without a descriptor (tests' StringIO) has nothing to flush
            pass


class JsonReporter(StreamReporter):
    """One JSON object per line on stdout, flushed: the contract the host plug-ins read."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stdout)

    def __call__(self, event: dict[str, Any]) -> None:
        self._write(json.dumps(event, separators=(", ", ": ")) + "\n")


class HumanReporter(StreamReporter):
    """A one-line progress bar on a terminal; otherwise one line per finished input."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        super().__init__(stream or sys.stderr)
        self.tty = self.stream.isatty()
        self.quiet = quiet

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "progress" and self.tty and not self.quiet:
            done = event["done"] + event["failed"] + event["skipped"]
            total = max(1, event["total"])
            filled = int(self.WIDTH * done / total)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self._write(f"\r[{bar}] {done}/{event['total']}  failed: {event['failed']}")
        elif kind == "result" and not self.tty and not self.quiet:
            self._write(f"{event['input']} -> {event['output']}\n")
        elif kind == "skipped" and not self.quiet:
            self._line(f"skipped {event['input']} ({event['output']} exists)")
        elif kind == "error":
            where = event.get("input") or "pixcut"
            self._line(f"error: {where}: {error_text(event['error'])}")
        elif kind == "summary":
            credits = event["credits_charged"]
            text = f"done: {event['done']}, failed: {event['failed']}, skipped: {event['skipped']}"
            if credits:
                text += f", credits charged: {credits:g}"
            if event.get("stopped_by") and event.get("not_attempted"):
                text += f"; {event['not_attempted']} not attempted (the error above would hit every input)"
            if event.get("interrupted"):
                text += " (interrupted: run again with --skip-existing to resume)"
            self._line(text)

    def _line(self, text: str) -> None:
        self._write(("\r\x1b[K" if self.tty else "") + text + "\n")

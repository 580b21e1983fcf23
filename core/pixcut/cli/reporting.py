"""How batch events reach the user: JSON lines for machines, a progress bar or lines for people."""

from __future__ import annotations

import json
import sys
import threading
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


class JsonReporter:
    """One JSON object per line on stdout, flushed: the contract the host plug-ins read."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.stream.write(json.dumps(event, separators=(", ", ": ")) + "\n")
            self.stream.flush()


class HumanReporter:
    """A one-line progress bar on a terminal; otherwise one line per finished input."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "progress" and self.tty and not self.quiet:
            done = event["done"] + event["failed"] + event["skipped"]
            total = max(1, event["total"])
            filled = int(self.WIDTH * done / total)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{event['total']}  failed: {event['failed']}")
            self.stream.flush()
        elif kind == "result" and not self.tty and not self.quiet:
            self.stream.write(f"{event['input']} -> {event['output']}\n")
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
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()

"""The ``serve`` subcommand's parser, its configuration checks and secret hygiene."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from pixcut.errors import OptionsError
from pixcut.server import cli as serve
from pixcut.server.config import ServeConfig


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


def test_flags_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIXCUT_SERVE_API_ID", raising=False)
    monkeypatch.delenv("PIXCUT_SERVE_API_SECRET", raising=False)
    args = parse([])
    assert (args.host, args.workers, args.queue, args.max_body_mb) == ("127.0.0.1", 2, 8, 50.0)
    assert args.runtime is None  # PIXCUT_RUNTIME, else auto: the CLI's rule
    assert args.allow_url_fetch is False and args.api_id is None and args.func is serve.run
    args = parse(
        ["--host", "0.0.0.0", "--port", "9000", "--api-id", "i", "--api-secret", "s", "--workers", "3"]
        + ["--queue", "1", "--max-body-mb", "5", "--allow-url-fetch", "--model", "u2netp"]
        + ["--threads", "2", "--log-level", "debug"]
    )
    got = (args.port, args.api_id, args.api_secret, args.threads, args.log_level, args.queue)
    assert got == (9000, "i", "s", 2, "debug", 1)


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXCUT_SERVE_API_ID", "env-id")
    monkeypatch.setenv("PIXCUT_SERVE_API_SECRET", "env-secret")
    args = parse([])
    assert (args.api_id, args.api_secret) == ("env-id", "env-secret")


def test_half_credentials_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIXCUT_SERVE_API_SECRET", raising=False)
    assert serve.run(parse(["--api-id", "only-id"])) == 2
    assert "--api-secret" in capsys.readouterr().err
    with pytest.raises(OptionsError):
        ServeConfig(workers=0)


def test_secret_never_in_repr() -> None:
    config = ServeConfig(api_id="i", api_secret="top-secret-value")
    assert "top-secret-value" not in repr(config)


def test_pixcut_help_lists_serve() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pixcut", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0 and "serve" in completed.stdout

"""Credentials storage: mode 0600, never echoed, environment first."""

import os
import stat
import subprocess
import sys

from pixcut.credentials import find_credentials


def run_cli(args, env, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def test_set_credentials_stores_0600_and_never_echoes(tmp_path, monkeypatch):
    env = {**os.environ, "PIXCUT_CONFIG_DIR": str(tmp_path)}
    env.pop("PIXIAN_API_ID", None)
    env.pop("PIXIAN_API_SECRET", None)
    proc = run_cli(["config", "set-credentials", "--api-id", "abc", "--secret-stdin"], env, "top-secret\n")
    assert proc.returncode == 0, proc.stderr
    assert "top-secret" not in proc.stdout + proc.stderr
    path = tmp_path / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = run_cli(["config", "show"], env)
    assert "api_id = abc" in shown.stdout and "top-secret" not in shown.stdout and "***" in shown.stdout
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("PIXIAN_API_ID", raising=False)
    monkeypatch.delenv("PIXIAN_API_SECRET", raising=False)
    assert find_credentials("x").api_secret == "top-secret"
    monkeypatch.setenv("PIXIAN_API_ID", "env")
    monkeypatch.setenv("PIXIAN_API_SECRET", "env-secret")
    creds = find_credentials("x")
    assert creds.api_id == "env" and "env-secret" not in repr(creds)


def test_broken_config_file_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{nope")
    env = {**os.environ, "PIXCUT_CONFIG_DIR": str(tmp_path)}
    proc = run_cli(["config", "show"], env)
    assert proc.returncode != 0 and "not valid JSON" in proc.stderr

"""`pixcut doctor` as a user runs it: a real process, the real model, plug-ins installed into a temporary home."""

import json
import os
import re
import subprocess
import sys

import pytest


@pytest.fixture
def home(tmp_path):
    """Every place pixcut reads or writes for the user, inside tmp_path."""
    env = {
        "HOME": str(tmp_path),
        "PIXCUT_CONFIG_DIR": str(tmp_path / "pixcut-config"),
        "GIMP3_DIRECTORY": str(tmp_path / "gimp3"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    base = {k: v for k, v in os.environ.items() if k not in ("PIXIAN_API_ID", "PIXIAN_API_SECRET")}
    return {**base, **env}


def pixcut(env, *args):
    return subprocess.run([sys.executable, "-m", "pixcut", *args], capture_output=True, text=True, env=env, timeout=180)


def doctor(env, *args):
    proc = pixcut(env, "doctor", "--json", *args)
    report = json.loads(proc.stdout)
    return proc.returncode, {c["name"]: c for c in report["checks"]}, report


def test_a_fresh_install_is_healthy_offline(home):
    code, checks, report = doctor(home)
    assert code == 0 and report["ok"] is True
    assert checks["engine"]["status"] == "ok"
    assert "u2netp" in checks["engine"]["detail"] and "sha256 verified" in checks["engine"]["detail"]
    assert "local" in checks["backends"]["detail"] and "pixian" in checks["backends"]["detail"]
    assert checks["gimp"]["status"] == "info" and "not installed" in checks["gimp"]["detail"]
    assert checks["credentials"]["status"] == "info"  # not needed offline
    cache = os.environ["PIXCUT_CACHE_DIR"]  # the test session's own (tests/conftest.py)
    assert checks["cache"]["status"] == "info" and checks["cache"]["detail"].startswith(cache)
    assert re.search(r": [1-9][0-9]* ncnn translation", checks["cache"]["detail"])  # at least u2netp's, just made


def test_a_missing_model_is_a_problem_with_the_fix(home, tmp_path):
    code, checks, report = doctor(home, "--model", str(tmp_path / "gone.onnx"))
    assert code == 1 and report["ok"] is False
    assert checks["engine"]["status"] == "problem" and "does not exist" in checks["engine"]["detail"]
    human = pixcut(home, "doctor", "--model", str(tmp_path / "gone.onnx"))
    assert human.returncode == 1 and "problem  engine" in human.stdout


def test_installed_plugins_are_checked_and_a_stale_location_is_reported(home, tmp_path):
    assert pixcut(home, "plugins", "install", "gimp").returncode == 0
    assert pixcut(home, "plugins", "install", "krita").returncode == 0
    code, checks, _ = doctor(home)
    assert code == 0
    assert checks["gimp"]["status"] == "ok" and str(tmp_path / "gimp3") in checks["gimp"]["detail"]
    assert checks["krita"]["status"] == "ok"

    location = tmp_path / "gimp3" / "plug-ins" / "pixcut-gimp" / "pixcut-location.json"
    location.write_text(json.dumps({"executable": str(tmp_path / "old-venv" / "bin" / "pixcut")}))
    kritarc = tmp_path / "config" / "kritarc"
    kritarc.write_text(kritarc.read_text().replace("enable_pixcut_krita=true", "enable_pixcut_krita=false"))
    code, checks, _ = doctor(home)
    assert code == 1
    assert checks["gimp"]["status"] == "problem" and "which is gone" in checks["gimp"]["detail"]
    assert checks["krita"]["status"] == "problem" and "not enabled" in checks["krita"]["detail"]


def test_cloud_default_needs_credentials_and_never_shows_the_secret(home):
    assert pixcut(home, "config", "set-backend", "pixian").returncode == 0
    code, checks, _ = doctor(home)
    assert code == 1 and checks["credentials"]["status"] == "problem"

    with_secret = {**home, "PIXIAN_API_ID": "my-id", "PIXIAN_API_SECRET": "top-secret-value"}
    proc = pixcut(with_secret, "doctor")
    assert proc.returncode == 0, proc.stdout
    assert "my-id" in proc.stdout and "environment" in proc.stdout
    assert "top-secret-value" not in proc.stdout + proc.stderr

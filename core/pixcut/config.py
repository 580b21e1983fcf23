"""The user's configuration file: where it lives and how it is written.

It may hold the API secret, so it is created with mode 0600 and written
atomically; nothing else in pixcut writes the secret anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from pixcut.atomic import write_atomic
from pixcut.errors import PixcutError


def config_dir() -> Path:
    """``PIXCUT_CONFIG_DIR`` if set, else the platform's user config folder for pixcut."""
    override = os.environ.get("PIXCUT_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("pixcut"))


def config_path() -> Path:
    return config_dir() / "config.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise PixcutError(f"cannot read the config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PixcutError(f"the config file {path} is not valid JSON ({exc.msg}); fix or delete it") from None
    return data if isinstance(data, dict) else {}


def save_config(data: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode=0o600)


def update_config(**changes: Any) -> Path:
    data = load_config()
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return save_config(data)


#: The preprocessing families a user's .onnx file may declare (the engine's presets:
#: ``pixcut.engine.models.FAMILIES``); here so the CLI can offer them without importing numpy.
MODEL_FAMILIES = ("u2net", "isnet", "birefnet")


def model_choice(model: str | None = None, family: str | None = None) -> tuple[str | None, str | None]:
    """The offline model to use: the caller's choice, else the config default, else None (u2netp).

    The one place the rule lives, so the CLI, ``pixcut serve``, the Python API (through the
    local backend) and ``pixcut doctor`` all agree. ``family`` goes with the model it declares: a
    configured ``model_family`` applies only to the configured model.
    """
    if model:
        return model, family
    config = load_config()
    configured = config.get("model")
    if not isinstance(configured, str) or not configured:
        return None, family
    configured_family = config.get("model_family")
    return configured, family or (configured_family if isinstance(configured_family, str) else None)


def add_model_arguments(group: argparse._ActionsContainer) -> None:
    """``--model`` and ``--model-family``, worded once for every command that runs the engine.

    ``pixcut remove`` and ``pixcut serve`` both offer them and resolve them with
    :func:`model_choice`, so the flags, their help and the rule cannot drift apart.
    """
    group.add_argument(
        "--model",
        help="offline model: a catalogue name (pixcut models list) or an .onnx path "
        "(default: pixcut config set-model, else u2netp)",
    )
    group.add_argument(
        "--model-family",
        choices=MODEL_FAMILIES,
        help="the family of an .onnx file given to --model: u2net, isnet or birefnet (or a sidecar FILE.json)",
    )

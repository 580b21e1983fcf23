"""docs/plugins.md is tested like datasette's plug-in docs: every hook, its exact arguments, the real example."""

from __future__ import annotations

import re
from pathlib import Path

import pluggy

from pixcut import hookspecs
from pixcut.plugins import load_plugins, pm

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "docs" / "plugin-example"


def hook_signatures(manager: pluggy.PluginManager) -> list[str]:
    """``name(arg, ...)`` for every hook the manager knows, from pluggy's own spec records."""
    found = []
    for name in sorted(dir(manager.hook)):
        caller = getattr(manager.hook, name)
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None:
            found.append(f"{name}({', '.join(caller.spec.argnames)})")
    return found


def undocumented(manager: pluggy.PluginManager, text: str) -> list[str]:
    """Hooks without a ``### `name(args)` `` section heading in ``text``."""
    headings = set(re.findall(r"^### `([a-z_]+\([a-z_, ]*\))`$", text, flags=re.MULTILINE))
    return [signature for signature in hook_signatures(manager) if signature not in headings]


def test_every_hook_is_documented_with_its_exact_arguments() -> None:
    load_plugins()
    signatures = hook_signatures(pm)
    assert len(signatures) >= 4 and "pixcut_after_removal(request, result, error)" in signatures
    assert undocumented(pm, DOCS.read_text()) == []


class NewHookSpecs:
    @hookspecs.hookspec
    def pixcut_new_hook(self, image: object, settings: object) -> None:
        """A hook someone added to hookspecs.py without writing docs/plugins.md."""


def test_a_hook_added_without_docs_is_caught() -> None:
    manager = pluggy.PluginManager("pixcut")
    manager.add_hookspecs(hookspecs)
    manager.add_hookspecs(NewHookSpecs)
    assert undocumented(manager, DOCS.read_text()) == ["pixcut_new_hook(image, settings)"]


def test_a_renamed_argument_is_caught() -> None:
    text = DOCS.read_text().replace("### `pixcut_credentials(endpoint)`", "### `pixcut_credentials(url)`")
    assert undocumented(pm, text) == ["pixcut_credentials(endpoint)"]


def test_the_worked_example_in_the_docs_is_the_example_package() -> None:
    text = DOCS.read_text()
    for name in ("pixcut_chromakey.py", "pyproject.toml"):
        assert (EXAMPLE / name).read_text() in text, f"docs/plugins.md shows an outdated {name}"

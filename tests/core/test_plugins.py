"""The pluggy seams: every hook documented, built-ins registered as plug-ins, third parties honoured."""

import inspect

import pytest
from support import cutout_with_box

from pixcut import hookimpl, hookspecs, remove_background
from pixcut.backends import BackendSettings, create_backend
from pixcut.errors import OptionsError
from pixcut.finishing import build_result
from pixcut.plugins import get_backends, load_plugins, pm


def test_every_hook_is_documented():
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("pixcut_")]
    assert len(specs) >= 4
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert len(doc.split()) >= 15, f"{spec.__name__} needs a real docstring"
        assert spec.__name__ in {h for h in dir(pm.hook) if h.startswith("pixcut_")}


def test_builtin_backends_are_default_plugins():
    load_plugins()
    names = {name for name, _ in pm.list_name_plugin()}
    assert {"pixcut.backends.local", "pixcut.backends.pixian", "pixcut.default_plugins.credentials"} <= names
    assert {"local", "pixian"} <= set(get_backends())


def test_credentials_module_is_not_a_plugin():
    """The type and the lookup only: the built-in provider is a default plug-in of its own."""
    import pixcut.credentials

    load_plugins()
    assert not pm.is_registered(pixcut.credentials)
    assert not hasattr(pixcut.credentials, "pixcut_credentials")


def test_hooks_are_called_through_pluggy():
    """A hook wrapper sees the backend registration: get_backends() calls pm.hook, not the functions."""
    calls = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def pixcut_register_backends(self, register):
            calls.append("before")
            result = yield
            calls.append("after")
            return result

    load_plugins()
    wrapper = Wrapper()
    pm.register(wrapper, name="test-wrapper")
    try:
        assert {"local", "pixian"} <= set(get_backends())
    finally:
        pm.unregister(wrapper)
    assert calls == ["before", "after"]


def test_an_installed_plugin_overrides_a_builtin_backend():
    class Override:
        @hookimpl
        def pixcut_register_backends(self, register):
            register("local", EchoBackend, "replacement")

    load_plugins()
    override = Override()
    pm.register(override, name="test-override")
    try:
        assert get_backends()["local"].description == "replacement"
        assert create_backend("local").name == "echo"
    finally:
        pm.unregister(override)
    assert get_backends()["local"].factory.__name__ == "LocalBackend"


class EchoBackend:
    """A test backend: 'removes' nothing, returns a cutout with a fixed box."""

    name = "echo"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings

    def remove(self, source, options):
        return build_result(cutout_with_box((10, 10), (2, 2, 6, 6)), options, input_size=(10, 10), backend="echo")


class RecordingPlugin:
    def __init__(self):
        self.seen = []

    @hookimpl
    def pixcut_register_backends(self, register):
        register("echo", EchoBackend, "test backend")

    @hookimpl
    def pixcut_before_removal(self, request):
        self.seen.append(("before", request["backend"], request["input"]))

    @hookimpl
    def pixcut_after_removal(self, request, result, error):
        self.seen.append(("after", result is not None, type(error).__name__ if error else None))

    @hookimpl
    def pixcut_credentials(self, endpoint):
        from pixcut.credentials import Credentials

        return Credentials("plugin-id", "plugin-secret") if "plugin" in endpoint else None


@pytest.fixture
def plugin():
    load_plugins()
    instance = RecordingPlugin()
    pm.register(instance, name="test-plugin")
    yield instance
    pm.unregister(instance)


def test_a_plugin_backend_and_observers(plugin, photo_path):
    result = remove_background(photo_path, backend="echo", crop_to_foreground=True)
    assert result.image.size == (4, 4) and result.backend == "echo"
    assert plugin.seen == [("before", "echo", "photo.png"), ("after", True, None)]


def test_observers_see_failures(plugin):
    from pixcut.errors import UnsupportedImageError

    with pytest.raises(UnsupportedImageError):
        remove_background(b"not an image", backend="local")
    assert plugin.seen[-1] == ("after", False, "UnsupportedImageError")


def test_credentials_provider_plugin_answers_first(plugin):
    from pixcut.credentials import find_credentials

    assert find_credentials("http://plugin.example/api").api_id == "plugin-id"


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(OptionsError, match="local.*pixian"):
        create_backend("nope")

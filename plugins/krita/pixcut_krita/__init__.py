"""pixcut for Krita: Remove Background actions and a docker (stdlib + PyQt5 + Krita API only).

Outside Krita (unit tests, the installer) importing the package registers nothing, so
``pixcut_krita.pixels`` and the kit stay importable without Krita or PyQt5.
"""

try:
    from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita
except ImportError:  # not inside Krita
    Krita = None

if Krita is not None:
    from .docker import DOCKER_ID, PixcutDocker
    from .extension import PixcutExtension

    _app = Krita.instance()
    _app.addExtension(PixcutExtension(_app))
    _app.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, PixcutDocker))

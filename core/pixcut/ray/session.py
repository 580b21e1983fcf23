"""Connect to a Ray cluster, or start a quiet local one for the length of a run.

Without an address pixcut starts Ray on this machine and stops it afterwards: no
dashboard, no usage statistics, a small object store (the map step moves only file
names and manifest rows through it, never images), Ray's files in the system temp
folder rather than the working directory, and Ray Data's progress bars and INFO
lines off so ``--json`` output and terminals stay clean.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pixcut.errors import OptionsError

LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
QUIET_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",  # never phone home
    "RAY_DEDUP_LOGS": "1",
    # The driver's C++ core worker logs one alarming-looking 'E' line per actor pool (Ray Data keeps actor
    # constructor arguments in the object store); at 'fatal' it says once that the level was set, at 'I'.
    "RAY_BACKEND_LOG_LEVEL": "fatal",
}


def require_ray() -> None:
    """A clear one-line error when the ``ray`` extra is missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise OptionsError("--ray needs Ray Data: pip install 'pixcut[ray]'") from None


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[None]:
    """Use the running Ray (``ray.is_initialized()``), connect to ``address``, or start a local Ray.

    Only a Ray this function started (or connected) is shut down on exit.
    """
    require_ray()
    import ray
    import ray.data

    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    _quiet_loggers()
    if ray.is_initialized():
        yield
        return
    local = not address
    if address:
        _check_reachable(address)
    try:
        with _c_stderr_silenced():
            ray.init(
                address=address or None,
                num_cpus=(num_cpus or os.cpu_count() or 1) if local else None,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES if local else None,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                _temp_dir=os.path.join(tempfile.gettempdir(), "pixcut-ray") if local else None,
            )
    except ConnectionError as exc:
        raise OptionsError(f"--ray-address {address}: cannot connect to a Ray cluster ({exc})") from None
    _quiet_loggers()  # ray.init configured its own handlers and levels
    try:
        yield
    finally:
        ray.shutdown()


def _quiet_loggers() -> None:
    """Ray's and Ray Data's Python loggers: errors only (Ray Data's full logs stay in its session folder)."""
    warnings.filterwarnings("ignore", message="The minimum number of concurrent actors", category=UserWarning)
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def cluster_resources() -> dict[str, float]:
    """CPU, GPU, memory... of the cluster Ray is connected to (``ray.cluster_resources``, typed here)."""
    import ray

    resources: Callable[[], dict[str, float]] = ray.cluster_resources  # untyped in Ray itself
    return dict(resources())


@contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while Ray starts.

    Ray's C++ core worker announces on the process's stderr, below Python, that it read
    ``RAY_BACKEND_LOG_LEVEL`` (the one line left once its other lines are turned off). A failure to
    start is still a Python exception, raised after stderr is back.
    """
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with the address in the message, when nothing listens there.

    Ray itself retries a wrong ``host:port`` for minutes before it gives up. ``auto`` and other
    forms without a port are left to Ray.
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise OptionsError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc})") from None

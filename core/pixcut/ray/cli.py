"""``pixcut remove ... --ray``: the same flags, events, summary and exit codes as the plain batch."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pixcut.backends import BackendSettings
from pixcut.batch import Event
from pixcut.errors import OptionsError
from pixcut.options import RemovalOptions
from pixcut.ray.pipeline import remove_backgrounds


def run_on_ray(
    args: argparse.Namespace,
    options: RemovalOptions,
    backend: str,
    settings: BackendSettings,
    report: Callable[[Event], None],
) -> int:
    """Run the planned batch on Ray; exit 0 all done, 1 any failed or the job stopped, 2 usage, 130 interrupted.

    Resuming needs no flag: the manifest in ``--out-dir`` says what is done (``--skip-existing`` is implied).
    """
    if args.output or not args.out_dir:
        raise OptionsError("--ray writes a folder: give --out-dir DIR (a local folder or a URI such as s3://bucket/x)")
    run = remove_backgrounds(
        args.inputs,
        options,
        backend,
        out=args.out_dir,
        settings=settings,
        delta=args.delta,
        recursive=args.recursive,
        report=report,
        address=args.ray_address,
        jobs=args.jobs,
        ramp_interval=args.ramp_interval,
    )
    if run.summary.interrupted:
        return 130
    return 1 if run.summary.failed or run.summary.stopped_by else 0

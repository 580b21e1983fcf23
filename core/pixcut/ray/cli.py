"""``pixcut remove ... --ray``: the same flags, events, summary and exit codes as the plain batch."""

from __future__ import annotations

import argparse
import threading

from pixcut.backends import BackendSettings
from pixcut.cli.reporting import StreamReporter
from pixcut.errors import OptionsError
from pixcut.options import RemovalOptions
from pixcut.ray.pipeline import remove_backgrounds


def run_on_ray(
    args: argparse.Namespace,
    options: RemovalOptions,
    backend: str,
    settings: BackendSettings,
    report: StreamReporter,
    stop: threading.Event,
) -> int:
    """Run the batch on Ray; the plain batch's exit codes, and 1 when Ray itself stopped the job.

    ``stop`` is the plain batch's: the reporter sets it when the reader of the events goes away,
    and the job then stops like after Ctrl-C, with exit code 141.

    Resuming needs no flag: the manifest in ``--out-dir`` says what is done (``--skip-existing`` is implied).
    """
    from pixcut.cli.remove import batch_exit_code, start_fields  # the plain CLI's own rules, not copies

    if getattr(args, "watch", None) or "-" in args.inputs:
        raise OptionsError("--ray takes files and folders (or URIs), not standard input or --watch")
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
        start_fields=start_fields(backend),
        address=args.ray_address,
        jobs=args.jobs,
        ramp_interval=args.ramp_interval,
        stop=stop,
    )
    return batch_exit_code(run.summary, reader_gone=report.closed) or (1 if run.summary.stopped_by else 0)

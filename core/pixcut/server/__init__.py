"""``pixcut serve``: a Pixian-compatible HTTP server on the offline engine.

Importing this package pulls in FastAPI/Starlette (the ``server`` extra); the CLI
imports it lazily so ``pixcut --help`` works without them. Modules, one job each:

- ``config``: ``ServeConfig``, the settings (no web framework imports);
- ``errors``: the error JSON body and the server-only error classes;
- ``auth``: HTTP Basic checking with constant-time comparison;
- ``middleware``: authentication and the request body limit, before any routing;
- ``limits``: bounded concurrent removals with a short queue (429 beyond it);
- ``fetch``: ``image.url`` fetching with the SSRF guards;
- ``inputs``: the request form -> (image bytes, ``RemovalOptions``);
- ``removebg``: remove.bg's ``POST /v1.0/removebg`` as an adapter onto ``RemovalOptions``;
- ``web``: the web page at ``/`` (files in ``static/``) and ``--open``;
- ``app``: the FastAPI application factory ``create_app``.
"""

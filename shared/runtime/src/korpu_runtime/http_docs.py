"""`/docs`: Swagger UI served whole by the service itself, under its own-origin CSP.

FastAPI's page loads Swagger UI's script and stylesheet from a public CDN and
starts it with an inline script: a person pasting an API key into "Authorize"
would run a third party's code beside it, and an offline deployment shows a
blank page. Here the files come from the `fastapi-offline` package (Swagger UI's
dist files, pinned in constraints.txt) and the start-up is a file of its own, so
the Content-Security-Policy of every answer (edge.py) allows this origin only.
Rejected: ReDoc (`/redoc`), a second page of the same document whose bundle
needs `blob:` workers and inline styles; and the OAuth2 redirect page, for a
flow no service offers (keys are bearer tokens).
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Awaitable, Callable
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

PREFIX = "/docs"
# The files served, by name under PREFIX: the package's file and its media type.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()


def _page(title: str, root: str) -> str:
    base = html.escape(root + PREFIX, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="icon" href="{base}/favicon.png">
<link rel="stylesheet" href="{base}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""


def _start(openapi_url: str) -> str:
    # `validatorUrl: null`: Swagger UI would otherwise show a badge fetched from its
    # public validator, sending it the document's address.
    options = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "validatorUrl": None,
        "layout": "BaseLayout",
    }
    return (
        f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, "
        "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n"
    )


def router(title: str, openapi_url: str) -> APIRouter:
    """The page, its start-up script and Swagger UI's files, all from this service."""
    docs = APIRouter(prefix=PREFIX, include_in_schema=False)

    @docs.get("")
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(_page(title + " - Swagger UI", request.scope.get("root_path", "")))

    @docs.get("/init.js")
    async def start(request: Request) -> Response:
        url = request.scope.get("root_path", "") + openapi_url
        return Response(_start(url), media_type="text/javascript; charset=utf-8")

    for name, media_type in ASSETS.items():
        docs.add_api_route(f"/{name}", _serve(name, media_type), methods=["GET"])
    return docs


def _serve(name: str, media_type: str) -> Callable[[], Awaitable[Response]]:
    async def asset() -> Response:
        return Response(_asset(name), media_type=media_type)

    asset.__name__ = "docs_" + name.replace("-", "_").replace(".", "_")
    return asset

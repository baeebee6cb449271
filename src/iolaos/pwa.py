"""The field page as an installable app: the service worker at the site's root and the web app manifest."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response

from iolaos.errors import NotFound


def mount_pwa(app: FastAPI, web: Path) -> None:
    """Serve ``/sw.js`` (at the root, so that its scope covers ``/field``) and ``/manifest.webmanifest``."""
    files = {"/sw.js": (web / "static" / "sw.js", "text/javascript; charset=utf-8"),
             "/manifest.webmanifest": (web / "static" / "manifest.webmanifest", "application/manifest+json")}
    for path, (file, media_type) in files.items():
        app.add_route(path, _serve(file, media_type), methods=["GET"], include_in_schema=False)


def _serve(file: Path, media_type: str):
    async def serve(request: Request) -> Response:
        if not file.exists():
            raise NotFound("no such file")
        # no-cache: the browser checks for a new service worker on every visit (it still works offline).
        return Response(file.read_bytes(), media_type=media_type,
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    return serve

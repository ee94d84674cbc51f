"""The Angular app (presenter console and viewer), served from its build in the one-process mode."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from captions.gateway.http import APP_CSP

# Client-side routes of the app: each is answered with index.html and the app's router takes over.
APP_ROUTES = ("/", "/present/{room_id}", "/r/{room_id}")


def install_web_app(api: FastAPI, build: Path) -> bool:
    """Serve the app if it was built (``make run`` builds it); False where there is no build."""
    index = build / "index.html"
    if not index.is_file():
        return False

    async def app_page() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache", "Content-Security-Policy": APP_CSP})

    for path in APP_ROUTES:
        api.add_api_route(path, app_page, methods=["GET"], include_in_schema=False)
    return True


def mount_web_assets(api: FastAPI, build: Path) -> None:
    """Scripts, styles and the audio worklet of the build; mounted last, behind every other route."""
    api.mount("/", StaticFiles(directory=build), name="web")

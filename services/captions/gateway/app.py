"""The web server: FastAPI for REST, python-socketio for realtime.

What the gateway runs on (store, room input, room events, room state, and whatever runs beside it) is given by
the composition at the edge (``captions.composition``): in ``captions serve`` the transcriber and its model
run in the same process; in ``captions gateway`` everything is on Redis and no model is loaded. This package
imports neither. Everything is built here and wired in the lifespan; nothing lives at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import socketio
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from captions.bus.events import RoomEvents
from captions.bus.inputs import RoomInputs
from captions.gateway.api import health, rooms, transcripts
from captions.gateway.embed import pages as embed_pages
from captions.gateway.namespace import CaptionsNamespace
from captions.gateway.problems import install_problem_handlers
from captions.gateway.services import Services
from captions.gateway.sessions import Sessions
from captions.gateway.web import install_web_app, mount_web_assets
from captions.metrics import Metrics
from captions.rooms.service import RoomService
from captions.roomstate.base import RoomState
from captions.settings import Settings
from captions.store.base import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backends:
    """What a gateway runs on. ``recover``: the room input did not survive the last process (one process),
    so open sessions go back to their last settled frame."""

    store: Store
    inputs: RoomInputs
    events: RoomEvents
    state: RoomState
    metrics: Metrics
    recover: bool = False


BackendsFactory = Callable[[], AbstractAsyncContextManager[Backends]]


def create_app(settings: Settings, backends: BackendsFactory) -> socketio.ASGIApp:
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=settings.cors_origins or None,
        # Engine.IO drops oversized packets silently; leave room above max_frame_bytes so that the gateway can
        # answer a too-large frame with a clear error.
        max_http_buffer_size=settings.max_frame_bytes * 4,
        # One client's events are handled in the order it sent them (audio frames above all); other clients'
        # connections are served concurrently all the same.
        async_handlers=False,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with backends() as used:
            sessions = Sessions(settings, used.store, used.state, used.inputs, used.events, used.metrics)
            namespace = CaptionsNamespace(settings, used.store, sessions, used.events, used.metrics)
            sio.register_namespace(namespace)
            app.state.services = Services(
                settings, used.store, RoomService(used.store), sessions, used.metrics
            )
            if used.recover:
                await sessions.recover()
            tasks = [
                asyncio.create_task(namespace.deliver()),
                asyncio.create_task(_keep_presence(settings, sessions, used.state)),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await sessions.close()

    api = FastAPI(
        title="Live captions",
        summary="Rooms, sessions and transcripts of the real-time captioning server.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(api)
    web = install_web_app(api, settings.web_dir)
    api.include_router(rooms.router)
    api.include_router(transcripts.router)
    api.include_router(health.router)
    api.include_router(embed_pages.router)
    api.mount("/embed-assets", StaticFiles(directory=embed_pages.STATIC_DIR), name="embed-assets")
    if web:
        mount_web_assets(api, settings.web_dir)
    else:

        @api.get("/", include_in_schema=False)
        async def home() -> RedirectResponse:
            return RedirectResponse("/docs")

    return socketio.ASGIApp(sio, other_asgi_app=api)


async def _keep_presence(settings: Settings, sessions: Sessions, state: RoomState) -> None:
    """Tell the other gateways this one is alive (its viewers count), and end sessions left without a
    presenter."""
    interval = min(5.0, settings.presenter_timeout_s / 4, settings.presence_ttl_s / 3)
    while True:
        started = time.monotonic()
        try:
            await state.heartbeat()
            await sessions.expire_absent()
        except Exception:
            log.exception("keeping presence")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

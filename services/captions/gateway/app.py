"""The one-process server: FastAPI for REST, python-socketio for realtime, the transcriber beside them.

Everything is built here and wired in the lifespan; nothing lives at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import socketio
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from captions.asr.engine import Engine
from captions.bus.memory import MemoryBus
from captions.gateway.api import health, rooms, transcripts
from captions.gateway.embed import pages as embed_pages
from captions.gateway.problems import install_problem_handlers
from captions.gateway.realtime import RealtimeGateway
from captions.gateway.services import Services
from captions.gateway.web import install_web_app, mount_web_assets
from captions.metrics import Metrics
from captions.rooms.service import RoomService
from captions.settings import Settings
from captions.store.factory import open_store
from captions.transcriber.worker import TranscriberWorker


def create_app(settings: Settings, engine: Engine | None = None) -> socketio.ASGIApp:
    """The ASGI app of ``captions serve``. Pass ``engine`` to share an already loaded model (tests)."""
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
        store = await open_store(settings)
        asr = engine if engine is not None else await asyncio.to_thread(Engine, settings)
        bus = MemoryBus()
        metrics = Metrics()
        realtime = RealtimeGateway(sio, settings, store, bus, metrics)
        worker = TranscriberWorker(asr, store, bus, metrics)
        app.state.services = Services(settings, store, RoomService(store), realtime, metrics)
        tasks = [
            asyncio.create_task(worker.run()),
            asyncio.create_task(realtime.fan_out()),
            asyncio.create_task(realtime.expire_idle_sessions()),
        ]
        try:
            yield
        finally:
            await worker.close()
            await bus.close()
            await realtime.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await store.close()
            if engine is None:
                asr.close()

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

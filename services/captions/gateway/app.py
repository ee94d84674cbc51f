"""The web server: FastAPI for REST, python-socketio for realtime.

``captions serve`` runs the transcriber beside it on an in-process bus; ``captions gateway`` runs it alone on
Redis (no model loaded), with transcribers elsewhere. Everything is built here and wired in the lifespan;
nothing lives at module level.
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
from captions.bus.base import Bus
from captions.bus.memory import MemoryBus
from captions.bus.redis import RedisBus
from captions.gateway.api import health, rooms, transcripts
from captions.gateway.embed import pages as embed_pages
from captions.gateway.problems import install_problem_handlers
from captions.gateway.realtime import RealtimeGateway
from captions.gateway.services import Services
from captions.gateway.web import install_web_app, mount_web_assets
from captions.metrics import Metrics
from captions.redis_client import connect, instance_name
from captions.rooms.service import RoomService
from captions.roomstate.base import RoomState
from captions.roomstate.memory import MemoryRoomState
from captions.roomstate.redis import RedisRoomState
from captions.settings import Settings
from captions.store.factory import open_store
from captions.transcriber.worker import TranscriberWorker


def create_app(
    settings: Settings, engine: Engine | None = None, *, scale_out: bool = False
) -> socketio.ASGIApp:
    """The ASGI app of ``captions serve``, or with ``scale_out`` of ``captions gateway``. Pass ``engine`` to share
    an already loaded model (tests)."""
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
        metrics = Metrics()
        bus: Bus
        state: RoomState
        if scale_out:
            client = connect(settings)
            name = instance_name(settings)
            bus, state = RedisBus(client, settings, name), RedisRoomState(client, name, settings)
        else:
            bus, state = MemoryBus(), MemoryRoomState()
        realtime = RealtimeGateway(sio, settings, store, bus, state, metrics)
        app.state.services = Services(settings, store, RoomService(store), realtime, metrics)
        tasks = [asyncio.create_task(realtime.fan_out()), asyncio.create_task(realtime.keep_presence())]
        worker: TranscriberWorker | None = None
        asr: Engine | None = None
        if not scale_out:
            asr = engine if engine is not None else await asyncio.to_thread(Engine, settings)
            worker = TranscriberWorker(asr, store, bus, metrics, settings.lag_skip_partials_s)
            tasks.append(asyncio.create_task(worker.run()))
        try:
            yield
        finally:
            if worker is not None:
                await worker.close()
            await realtime.close()
            await state.close()
            await bus.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await store.close()
            if asr is not None and engine is None:
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

"""Composition at the edge: what ``captions serve`` and ``captions gateway`` run on.

``serve``: one process. The transcriber and its model run beside the gateway on an in-process bus; sessions
are kept in the store, so a restarted server continues them. ``gateway``: Redis carries room input, room
events and room state between processes; no model is loaded (the gateway never imports the engine).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import uvicorn
from starlette.types import ASGIApp

from captions.bus.memory import MemoryRoomEvents, MemoryRoomInputs
from captions.gateway.app import Backends, create_app
from captions.gateway.slow_clients import header_deadline_protocol
from captions.limits.memory import MemoryLimiter
from captions.metrics import Metrics
from captions.roomstate.stored import StoredRoomState
from captions.settings import Settings
from captions.store.factory import open_store

if TYPE_CHECKING:
    from captions.asr.engine import Engine


def serve_app(settings: Settings, engine: Engine | None = None) -> ASGIApp:
    """``captions serve``. Pass ``engine`` to share an already loaded model (tests)."""

    @contextlib.asynccontextmanager
    async def one_process() -> AsyncIterator[Backends]:
        from captions.asr.engine import Engine
        from captions.destinations.sealing import Sealer
        from captions.destinations.service import RoomDestinations
        from captions.recognizers.local import LocalRecognizer
        from captions.recognizers.registry import Recognizers
        from captions.transcriber.worker import TranscriberWorker

        store = await open_store(settings)
        limiter = MemoryLimiter()
        inputs = MemoryRoomInputs(settings.max_rooms, limiter, settings.room_backlog_bytes)
        events, metrics = MemoryRoomEvents(), Metrics()
        asr = engine if engine is not None else await asyncio.to_thread(Engine, settings)
        recognizers = Recognizers.from_settings(settings, LocalRecognizer(asr))
        destinations = RoomDestinations(store, events, Sealer.from_settings(settings), settings, inputs.owns)
        worker = TranscriberWorker(
            recognizers, store, inputs, events, metrics, settings.lag_skip_partials_s, destinations
        )
        running = asyncio.create_task(worker.run())
        try:
            state = StoredRoomState(store, settings.presenter_timeout_s)
            yield Backends(store, inputs, events, state, metrics, limiter, recover=True)
        finally:
            try:
                await worker.close()  # every room settled: its session goes on when the server is back
            finally:
                await destinations.close()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await inputs.close()
            await events.close()
            await store.close()
            await recognizers.close()
            if engine is None:
                asr.close()

    return create_app(settings, one_process)


def gateway_app(settings: Settings) -> ASGIApp:
    """``captions gateway``: web app, REST and Socket.IO on Redis."""

    @contextlib.asynccontextmanager
    async def on_redis() -> AsyncIterator[Backends]:
        from captions.bus.redis_bus import redis_bus
        from captions.limits.redis import RedisLimiter
        from captions.roomstate.redis import RedisRoomState

        store = await open_store(settings)
        try:
            async with redis_bus(settings) as bus:
                state = RedisRoomState(bus.client, bus.name, settings, bus.retrying)
                try:
                    limiter = RedisLimiter(bus.client, bus.name, settings.presence_ttl_s)
                    yield Backends(store, bus.inputs, bus.events, state, Metrics(), limiter)
                finally:
                    await state.close()
        finally:
            await store.close()

    return create_app(settings, on_redis)


def server_config(app: ASGIApp, settings: Settings, log_level: str = "warning") -> uvicorn.Config:
    """How the web server listens: client addresses come from ``CAPTIONS_TRUSTED_PROXIES`` only (the app's
    ``ClientAddress``, not uvicorn's own guess); WebSocket messages are capped near the largest audio frame,
    and a peer that stops answering pings is dropped. No line per request or connection (the proxy keeps the
    access log): under a flood, logging every refused request would cost more than refusing it, and fill the
    disk; refusals are logged once per client by the app."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes * 4 + 4096,
        # Compression would be per connection: every caption deflated once per viewer, and a zlib state held
        # by each of thousands of sockets, for messages of a few hundred bytes that barely shrink.
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # h11, not httptools: it holds request headers to the limit below, and a request's headers must arrive
        # within header_timeout_s (slowloris); past max_open_connections a new connection gets 503.
        http=header_deadline_protocol(settings.header_timeout_s),
        h11_max_incomplete_event_size=64 * 1024,
        limit_concurrency=settings.max_open_connections,
        timeout_keep_alive=5,
    )

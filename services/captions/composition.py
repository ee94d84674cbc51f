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

import socketio

from captions.bus.memory import MemoryRoomEvents, MemoryRoomInputs
from captions.gateway.app import Backends, create_app
from captions.metrics import Metrics
from captions.roomstate.stored import StoredRoomState
from captions.settings import Settings
from captions.store.factory import open_store

if TYPE_CHECKING:
    from captions.asr.engine import Engine


def serve_app(settings: Settings, engine: Engine | None = None) -> socketio.ASGIApp:
    """``captions serve``. Pass ``engine`` to share an already loaded model (tests)."""

    @contextlib.asynccontextmanager
    async def one_process() -> AsyncIterator[Backends]:
        from captions.asr.engine import Engine
        from captions.transcriber.worker import TranscriberWorker

        store = await open_store(settings)
        inputs, events, metrics = MemoryRoomInputs(), MemoryRoomEvents(), Metrics()
        asr = engine if engine is not None else await asyncio.to_thread(Engine, settings)
        worker = TranscriberWorker(asr, store, inputs, events, metrics, settings.lag_skip_partials_s)
        running = asyncio.create_task(worker.run())
        try:
            yield Backends(store, inputs, events, StoredRoomState(store), metrics, recover=True)
        finally:
            await worker.close()  # every room settled: its session goes on when the server is back
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await inputs.close()
            await events.close()
            await store.close()
            if engine is None:
                asr.close()

    return create_app(settings, one_process)


def gateway_app(settings: Settings) -> socketio.ASGIApp:
    """``captions gateway``: web app, REST and Socket.IO on Redis."""

    @contextlib.asynccontextmanager
    async def on_redis() -> AsyncIterator[Backends]:
        from captions.bus.redis_bus import redis_bus
        from captions.roomstate.redis import RedisRoomState

        store = await open_store(settings)
        try:
            async with redis_bus(settings) as bus:
                state = RedisRoomState(bus.client, bus.name, settings, bus.retrying)
                try:
                    yield Backends(store, bus.inputs, bus.events, state, Metrics())
                finally:
                    await state.close()
        finally:
            await store.close()

    return create_app(settings, on_redis)

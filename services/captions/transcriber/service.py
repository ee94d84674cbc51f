"""``captions transcriber``: the transcriber as its own process, on Redis, holding no client connection.

It loads the model, takes rooms whose lease nobody holds, and runs until SIGTERM/SIGINT; then it hands its
rooms over at once (leases deleted, unsettled audio left pending for the next owner). Prometheus metrics are
served on ``CAPTIONS_HOST``:``CAPTIONS_PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from prometheus_client import start_http_server

from captions.asr.engine import Engine
from captions.bus.redis_bus import RedisBus, redis_bus
from captions.destinations.sealing import Sealer
from captions.destinations.service import RoomDestinations
from captions.metrics import Metrics
from captions.recognizers.local import LocalRecognizer
from captions.recognizers.registry import Recognizers
from captions.settings import Settings
from captions.store.base import Store
from captions.store.factory import open_store
from captions.transcriber.worker import TranscriberWorker

log = logging.getLogger(__name__)


async def run_transcriber(settings: Settings) -> None:
    engine = await asyncio.to_thread(Engine, settings)
    recognizers = Recognizers.from_settings(settings, LocalRecognizer(engine))
    store = await open_store(settings)
    try:
        async with redis_bus(settings) as bus:
            await _serve(settings, recognizers, store, bus)
    finally:
        await store.close()
        await recognizers.close()
        engine.close()


async def _serve(settings: Settings, recognizers: Recognizers, store: Store, bus: RedisBus) -> None:
    metrics = Metrics()
    sealer = Sealer.from_settings(settings)
    destinations = RoomDestinations(store, bus.events, sealer, settings, bus.inputs.owns)
    worker = TranscriberWorker(
        recognizers, store, bus.inputs, bus.events, metrics, settings.lag_skip_partials_s, destinations
    )
    server, _ = start_http_server(settings.port, addr=settings.host, registry=metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("transcriber %s ready (metrics on %s:%d)", bus.name, settings.host, settings.port)
    print(f"captions transcriber {bus.name} ready", flush=True)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait([running, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    finally:
        await worker.release_all()
        await destinations.close()
        await bus.inputs.close()  # leases handed over before anything else stops
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        server.shutdown()

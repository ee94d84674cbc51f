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
from datetime import timedelta

import socketio
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import start_http_server
from starlette.types import ASGIApp

from captions.bus.events import RoomEvents
from captions.bus.inputs import RoomInputs
from captions.destinations.sealing import Sealer
from captions.gateway.api import capabilities, destinations, health, rooms, transcripts
from captions.gateway.embed import pages as embed_pages
from captions.gateway.engine_limits import EngineIOFrames
from captions.gateway.http import (
    DOCS_CSP,
    BodyLimit,
    ClientAddress,
    GateRule,
    RequestGate,
    SecurityHeaders,
    WebSocketOnly,
    creates_a_room,
    opens_a_connection,
    reads,
    renders_finals,
    trusted_networks,
)
from captions.gateway.live import LiveRooms
from captions.gateway.namespace import CaptionsNamespace
from captions.gateway.problems import install_problem_handlers
from captions.gateway.services import Services
from captions.gateway.sessions import Sessions
from captions.gateway.transport import BoundedServer, PacketLimits
from captions.gateway.web import install_web_app, mount_web_assets
from captions.limits.base import Limiter
from captions.metrics import Metrics
from captions.rooms.organizers import Organizers
from captions.rooms.service import RoomService, now
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
    limiter: Limiter
    recover: bool = False


BackendsFactory = Callable[[], AbstractAsyncContextManager[Backends]]


# Rooms never used are looked for this often, this many at a time.
SWEEP_INTERVAL_S = 300.0
SWEEP_BATCH = 500


def create_app(settings: Settings, backends: BackendsFactory) -> ASGIApp:
    sio = BoundedServer(
        client_queue_max=settings.client_queue_max,
        packets=PacketLimits(settings.packet_rate, settings.packet_burst, settings.join_within_s),
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
        async with backends() as used, _metrics_listener(settings, used.metrics):
            live_rooms = LiveRooms(used.events, settings.unsubscribe_grace_s)
            sessions = Sessions(
                settings,
                used.store,
                used.state,
                used.inputs,
                used.events,
                used.metrics,
                live_rooms,
                used.limiter,
            )
            namespace = CaptionsNamespace(
                settings, used.store, sessions, used.events, used.metrics, used.limiter, live_rooms
            )
            sio.register_namespace(namespace)
            sio.on_close = lambda reason: used.metrics.disconnected.labels(reason).inc()
            sio.on_open, sio.on_gone = namespace.connection_opened, namespace.connection_gone
            gate.limiter = used.limiter
            gate.on_request = lambda kind: used.metrics.gated.labels(kind).inc()
            app.state.services = Services(
                settings,
                used.store,
                RoomService(used.store),
                sessions,
                used.metrics,
                Organizers(used.store.organizers),
                Sealer.from_settings(settings),
            )
            if used.recover:
                await sessions.recover()
            tasks = [
                asyncio.create_task(namespace.deliver()),
                asyncio.create_task(_keep_presence(settings, sessions, used.state, used.limiter)),
                asyncio.create_task(_watch_stalls(settings, sessions)),
                asyncio.create_task(_sweep(settings, used.store)),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await sessions.close()
                await live_rooms.close()

    api = FastAPI(
        title="Live captions",
        summary="Rooms, sessions and transcripts of the real-time captioning server.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(api)
    if settings.api_docs:
        _install_docs(api)
    web = install_web_app(api, settings.web_dir)
    api.include_router(rooms.router)
    api.include_router(destinations.router)
    api.include_router(capabilities.router)
    api.include_router(transcripts.router)
    api.include_router(health.router)
    api.include_router(embed_pages.router)
    api.mount("/embed-assets", StaticFiles(directory=embed_pages.STATIC_DIR), name="embed-assets")
    if web:
        mount_web_assets(api, settings.web_dir)
    else:
        log.warning("no web app build in %s: / shows a notice (set CAPTIONS_WEB_DIR)", settings.web_dir)

        @api.get("/", include_in_schema=False)
        async def home() -> HTMLResponse:
            return HTMLResponse(
                "<!doctype html><title>Live captions</title><p>The captions server is running; the web app "
                "is not built here (<code>make run</code> builds it; <code>CAPTIONS_WEB_DIR</code> names a build "
                "elsewhere).</p>"
            )

    http: ASGIApp = BodyLimit(api, settings.max_body_bytes)
    realtime = WebSocketOnly(
        EngineIOFrames(socketio.ASGIApp(sio, other_asgi_app=http)), settings.allow_polling
    )
    gate = RequestGate(realtime, _gate_rules(settings), settings.refusal_delay_s)
    # Every HTTP answer carries the security headers, refusals of the gate included.
    return ClientAddress(SecurityHeaders(gate), trusted_networks(settings.trusted_proxies))


# An address that connects no more than this is a person (or a few behind one router): it never waits for the
# process-wide connect rate, which only the addresses that connect a lot (a venue's NAT, a storm) share.
CALM_CONNECT_RATE = 1.0
CALM_CONNECT_BURST = 10
CALM_DOWNLOAD_RATE = 1.0
CALM_DOWNLOAD_BURST = 10


def _gate_rules(settings: Settings) -> tuple[GateRule, ...]:
    return (
        GateRule("connect", settings.connect_rate, settings.connect_burst, opens_a_connection,
                 "too many connections from your address; try again shortly"),
        GateRule("connect:process", settings.process_connect_rate, settings.process_connect_burst,
                 opens_a_connection, "the server is taking too many new connections; try again shortly",
                 per_address=False, exempt_within=(CALM_CONNECT_RATE, CALM_CONNECT_BURST)),
        GateRule("reads", settings.reads_rate, settings.reads_burst, reads,
                 "too many requests from your address; try again shortly"),
        GateRule("downloads:process", settings.process_downloads_rate, settings.process_downloads_burst,
                 renders_finals, "the server is sending too many transcripts; try again shortly",
                 per_address=False, exempt_within=(CALM_DOWNLOAD_RATE, CALM_DOWNLOAD_BURST)),
        GateRule("rooms", settings.rooms_per_hour / 3600, settings.rooms_burst, creates_a_room,
                 f"at most {settings.rooms_per_hour:g} new rooms an hour from one address"),
    )  # fmt: skip


def _install_docs(api: FastAPI) -> None:
    """Swagger UI from the pinned ``swagger-ui-bundle`` package, never a CDN: the docs share an origin with
    pages whose storage holds presenter keys."""
    from swagger_ui_bundle import swagger_ui_path

    api.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Live captions API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page


@contextlib.asynccontextmanager
async def _metrics_listener(settings: Settings, metrics: Metrics) -> AsyncIterator[None]:
    """Prometheus on its own port (for the internal network only), never on the public one by default."""
    if not settings.metrics_port:
        yield
        return
    server, thread = start_http_server(settings.metrics_port, settings.metrics_host, metrics.registry)
    log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def _keep_presence(settings: Settings, sessions: Sessions, state: RoomState, limiter: Limiter) -> None:
    """Tell the other gateways this one is alive (its viewers count, its connection slots), and end sessions
    left without a presenter."""
    interval = min(5.0, settings.presenter_timeout_s / 4, settings.presence_ttl_s / 3)
    while True:
        started = time.monotonic()
        try:
            await state.heartbeat()
            await limiter.refresh()
            await sessions.expire_absent()
        except Exception:
            log.exception("keeping presence")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def _watch_stalls(settings: Settings, sessions: Sessions) -> None:
    """Looks for presenters whose audio stopped mid-talk, a few times within ``presenter_stall_s``."""
    while True:
        await asyncio.sleep(settings.presenter_stall_s / 4)
        try:
            await sessions.notice_stalls()
        except Exception:
            log.exception("looking for stalled presenters")


async def _sweep(settings: Settings, store: Store) -> None:
    """Rooms created and never used go after ``unused_room_ttl_s`` (creation spam does not pile up), and ended
    sessions with their captions after ``transcript_retention_days`` where it is set."""
    retention_s = settings.transcript_retention_days * 86_400
    while True:
        try:
            cutoff = now() - timedelta(seconds=settings.unused_room_ttl_s)
            while unused := await store.unused_rooms(cutoff, SWEEP_BATCH):
                for room_id in unused:
                    await store.delete_room(room_id)
                log.info("deleted %d rooms never used", len(unused))
                if len(unused) < SWEEP_BATCH:
                    break
            if retention_s:
                while expired := await store.expire_sessions(
                    now() - timedelta(seconds=retention_s), SWEEP_BATCH
                ):
                    log.info("deleted %d sessions older than the retention period", expired)
        except Exception:
            log.exception("sweeping the store")
        await asyncio.sleep(
            min(SWEEP_INTERVAL_S, settings.unused_room_ttl_s / 2, retention_s / 2 or SWEEP_INTERVAL_S)
        )

"""A real uvicorn server on a free port, and Socket.IO clients that record what they receive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import socketio
import uvicorn

from captions.asr.engine import Engine
from captions.audio.pcm import float32_to_pcm16, load_audio, split_frames
from captions.composition import serve_app, server_config
from captions.settings import Settings
from tests.support.processes import free_port


class Server:
    """``captions serve`` in this process's event loop (sharing the test engine), on a free port."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings.model_copy(update={"port": free_port()})
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self.settings = self.settings.model_copy(update={"host": "127.0.0.1"})
        config = server_config(serve_app(self.settings, engine), self.settings, log_level="warning")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Server:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        return self

    async def __aenter__(self) -> Server:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    async def create_room(self, title: str = "Keynote") -> dict[str, Any]:
        return await create_room(self, title)

    async def metrics(self) -> str:
        """The Prometheus text, as a scraper holding ``metrics_token`` gets it."""
        async with self.http() as http:
            response = await http.get(
                "/metrics", headers={"Authorization": f"Bearer {self.settings.metrics_token}"}
            )
            response.raise_for_status()
            return response.text


async def create_room(server: Reachable, title: str = "Keynote") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post("/api/rooms", json={"title": title})
        response.raise_for_status()
        room: dict[str, Any] = response.json()
        return room


async def stored_finals(server: Reachable, room_id: str) -> list[dict[str, Any]]:
    """The latest session's transcript as the REST API serves it."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get(f"/api/rooms/{room_id}/transcript.json")
        response.raise_for_status()
        cues: list[dict[str, Any]] = response.json()["cues"]
        return cues


@dataclass
class Client:
    """One Socket.IO connection; everything it receives is kept in order."""

    url: str
    auth: dict[str, Any]
    captions: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    headers: dict[str, str] = field(default_factory=dict)  # X-Forwarded-For: a client behind a proxy
    received: dict[str, list[Any]] = field(default_factory=dict)  # other events, once ``record``ed

    def __post_init__(self) -> None:
        self.sio.on("caption", self.captions.append)
        self.sio.on("status", self.statuses.append)
        self.sio.on("error", self.errors.append)

    def record(self, *events: str) -> Client:
        """Keep these events too (in ``received``); call before connecting."""
        for event in events:
            self.received[event] = []
            self.sio.on(event, self.received[event].append)
        return self

    async def connect(self) -> Client:
        # The room in the handshake's query, as the web app and the widget send it (a proxy routes by it).
        url = f"{self.url}?{urlencode({'room': self.auth['room']})}" if "room" in self.auth else self.url
        await self.sio.connect(
            url, auth=self.auth, headers=self.headers, transports=["websocket"], wait_timeout=10
        )
        return self

    async def disconnect(self) -> None:
        await self.sio.disconnect()

    async def emit(self, event: str, data: Any = None) -> None:
        await self.sio.emit(event, data)

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [c for c in self.captions if c["kind"] == "final"]

    @property
    def session(self) -> str | None:
        """The room's session state as this client was last told."""
        return self.statuses[-1]["session"] if self.statuses else None

    def ended(self) -> bool:
        return self.session == "ended"

    @property
    def last_id(self) -> str | None:
        return self.finals[-1]["id"] if self.finals else None

    async def wait_for(self, condition: Callable[[], bool], within_s: float = 30.0) -> None:
        deadline = time.monotonic() + within_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {within_s}s; captions={self.captions[-3:]} errors={self.errors}")
            await asyncio.sleep(0.05)

    async def error(self, code: str) -> dict[str, Any]:
        await self.wait_for(lambda: any(e["code"] == code for e in self.errors), within_s=5)
        return next(e for e in self.errors if e["code"] == code)


async def until(condition: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    """Wait for something the test cannot be told of by an event (what a fake server received)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {within_s}s for {what}")
        await asyncio.sleep(0.02)


class Reachable(Protocol):
    """A server a client can connect to: in this process, or a ``captions`` process."""

    @property
    def url(self) -> str: ...


def viewer(server: Reachable, room: str, last_id: str | None = None) -> Client:
    auth: dict[str, Any] = {"room": room, "role": "viewer"}
    if last_id:
        auth["last_id"] = last_id
    return Client(server.url, auth)


def presenter(server: Reachable, room: dict[str, Any]) -> Client:
    return Client(server.url, {"room": room["id"], "role": "presenter", "key": room["presenter_key"]})


def pcm_frames(path: Path, frame_s: float = 0.1) -> list[bytes]:
    return [float32_to_pcm16(frame) for frame in split_frames(load_audio(path), frame_s)]


async def stream(
    client: Client, frames: list[bytes], *, realtime: bool = True, speed: float = 1.0, first_seq: int = 0
) -> None:
    """Send frames as a microphone would (one every 100 ms; ``speed`` times as fast, as a presenter's app
    catching up after a blip does), or as fast as possible."""
    started = time.monotonic()
    for index, pcm in enumerate(frames):
        if realtime:
            await asyncio.sleep(max(0.0, started + (index + 1) * 0.1 / speed - time.monotonic()))
        await client.emit("audio", {"seq": first_seq + index, "pcm": pcm})

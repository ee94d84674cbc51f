"""Clients that behave as the web app does across a server restart: they reconnect by themselves, ask for the
captions after the last one they saw, and a presenter keeps its last 30 s of frames and resends them from the
``resume_seq`` the server names (the same rule as ``CaptionSocket`` in the Angular app)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

from tests.support.harness import Reachable, pcm_frames

KEPT_FRAMES = 300  # 30 s of 100 ms frames, as the web app keeps


class ReconnectingClient:
    def __init__(self, server: Reachable, auth: dict[str, Any]) -> None:
        self.url = server.url
        self.auth = auth
        self.captions: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.connects = 0
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5, randomization_factor=0
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("caption", self._on_caption)
        self.sio.on("status", self._on_status)
        self.sio.on("error", self.errors.append)

    async def connect(self) -> None:
        await self.sio.connect(self.url, auth=self._auth, transports=["websocket"], wait_timeout=10)

    async def disconnect(self) -> None:
        await self.sio.disconnect()

    def _auth(self) -> dict[str, Any]:
        last = self.last_id
        return {**self.auth, **({"last_id": last} if last else {})}

    async def _on_connect(self) -> None:
        self.connects += 1

    def _on_caption(self, caption: dict[str, Any]) -> None:
        self.captions.append(caption)

    async def _on_status(self, status: dict[str, Any]) -> None:
        self.statuses.append(status)

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [c for c in self.captions if c["kind"] == "final"]

    @property
    def last_id(self) -> str | None:
        finals = self.finals
        return finals[-1]["id"] if finals else None

    def ended(self) -> bool:
        return bool(self.statuses) and self.statuses[-1]["session"] == "ended"

    async def wait_for(self, condition: Callable[[], bool], within_s: float = 30.0) -> None:
        deadline = time.monotonic() + within_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"waited {within_s}s; statuses={self.statuses[-2:]} errors={self.errors} "
                    f"connects={self.connects} captions={[(c['kind'][0], c['id']) for c in self.captions]}"
                )
            await asyncio.sleep(0.05)


class PresenterApp(ReconnectingClient):
    def __init__(self, server: Reachable, room: dict[str, Any]) -> None:
        super().__init__(server, {"room": room["id"], "role": "presenter", "key": room["presenter_key"]})
        self.kept: deque[tuple[int, bytes]] = deque(maxlen=KEPT_FRAMES)
        self.next_seq = 0
        self.synced = False  # the server said, since the last connect, which frame it needs
        self.resent = 0

    async def _on_connect(self) -> None:
        await super()._on_connect()
        self.synced = False

    async def _on_status(self, status: dict[str, Any]) -> None:
        await super()._on_status(status)
        if status["last_seq"] >= self.next_seq:
            self.next_seq = status["last_seq"] + 1
        if not self.synced:
            self.synced = True
            for seq, pcm in list(self.kept):
                if seq >= status["resume_seq"]:
                    self.resent += 1
                    await self.sio.emit("audio", {"seq": seq, "pcm": pcm})

    async def capture(self, pcm: bytes) -> None:
        """One frame from the microphone: kept, and sent unless the connection is down."""
        frame = (self.next_seq, pcm)
        self.next_seq += 1
        self.kept.append(frame)
        if self.sio.connected and self.synced:
            # The connection may go down under it: the frame is kept for the resend.
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                await self.sio.emit("audio", {"seq": frame[0], "pcm": frame[1]})

    async def speak(self, recording: Path, *, on_second: Callable[[float], Any] | None = None) -> None:
        """The recording at microphone pace; ``on_second`` is called with the audio time every second."""
        started = time.monotonic()
        for index, pcm in enumerate(pcm_frames(recording)):
            await asyncio.sleep(max(0.0, started + (index + 1) * 0.1 - time.monotonic()))
            await self.capture(pcm)
            if on_second is not None and (index + 1) % 10 == 0:
                result = on_second((index + 1) / 10)
                if asyncio.iscoroutine(result):
                    await result

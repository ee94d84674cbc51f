"""Clients that behave as the web app does across a server restart: they reconnect by themselves, ask for the
captions after the last one they saw, and a presenter keeps its last 30 s of frames and resends them from the
``resume_seq`` the server names (the same rule as ``CaptionSocket`` in the Angular app)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import socketio

from tests.support.harness import Client, Reachable, pcm_frames

KEPT_FRAMES = 300  # 30 s of 100 ms frames, as the web app keeps


def _reconnecting() -> socketio.AsyncClient:
    return socketio.AsyncClient(
        reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5, randomization_factor=0
    )


@dataclass
class ReconnectingClient(Client):
    """A harness client that reconnects by itself, naming the last final it saw each time."""

    sio: socketio.AsyncClient = field(default_factory=_reconnecting)
    connects: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.sio.on("connect", self._on_connect)

    async def connect(self) -> Self:
        await self.sio.connect(self.url, auth=self._auth, transports=["websocket"], wait_timeout=10)
        return self

    def _auth(self) -> dict[str, Any]:
        last = self.last_id
        return {**self.auth, **({"last_id": last} if last else {})}

    async def _on_connect(self) -> None:
        self.connects += 1


@dataclass
class PresenterApp(ReconnectingClient):
    kept: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=KEPT_FRAMES))
    next_seq: int = 0
    synced: bool = False  # the server said, since the last connect, which frame it needs
    resent: int = 0

    @classmethod
    def of(cls, server: Reachable, room: dict[str, Any]) -> PresenterApp:
        return cls(server.url, {"room": room["id"], "role": "presenter", "key": room["presenter_key"]})

    resend_wait_s: float = 0.5
    resend_from: int = 0
    resend: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.sio.on("status", self._on_status)
        self.sio.on("error", self._on_error)

    async def _on_error(self, error: dict[str, Any]) -> None:
        """``resend``: the server could not queue a frame; the kept audio goes again from it, after a wait that
        grows while the server keeps asking (as the web app does)."""
        self.errors.append(error)
        if error["code"] != "resend":
            return
        self.resend_from = error["resume_seq"]
        if self.resend is None or self.resend.done():
            self.resend = asyncio.create_task(self._resend(self.resend_wait_s))
            self.resend_wait_s = min(5.0, self.resend_wait_s * 2)

    async def _resend(self, wait_s: float) -> None:
        await asyncio.sleep(wait_s)  # a back-off, as the web app's: not a synchronisation
        for seq, pcm in list(self.kept):
            if seq >= self.resend_from:
                self.resent += 1
                with contextlib.suppress(socketio.exceptions.SocketIOError):
                    await self.sio.emit("audio", {"seq": seq, "pcm": pcm})

    async def _on_connect(self) -> None:
        await super()._on_connect()
        self.synced = False

    async def _on_status(self, status: dict[str, Any]) -> None:
        self.statuses.append(status)
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

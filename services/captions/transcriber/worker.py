"""The transcriber: turns each live room's input into captions, persists the finals, publishes everything.

It is the one writer of a room's captions, so numbering stays consistent whether the words come from the
server's recogniser or from the presenter's browser. Caption ids are ``{session_id}:{seq}``; a partial
carries the id its final will take.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from captions.asr.engine import Engine
from captions.asr.events import CaptionEvent
from captions.asr.session import RecognizerSession
from captions.audio.pcm import BYTES_PER_SAMPLE, SAMPLE_RATE, AudioFormatError
from captions.bus.base import Bus, CaptionMessage, RoomInput
from captions.metrics import Metrics
from captions.protocol import Caption
from captions.store.base import CaptionRecord, Store

log = logging.getLogger(__name__)


def caption_id(session_id: str, seq: int) -> str:
    return f"{session_id}:{seq}"


def parse_caption_id(value: str) -> tuple[str, int] | None:
    session_id, _, seq = value.rpartition(":")
    return (session_id, int(seq)) if session_id and seq.isdigit() else None


@dataclass
class RoomTranscription:
    """One live session of one room."""

    room_id: str
    session_id: str
    recognizer: RecognizerSession | None
    started: float = field(default_factory=time.monotonic)
    finals: int = 0
    audio_seconds: float = 0.0
    reader: asyncio.Task[None] | None = None


class TranscriberWorker:
    def __init__(self, engine: Engine | None, store: Store, bus: Bus, metrics: Metrics) -> None:
        self._engine = engine
        self._store = store
        self._bus = bus
        self._metrics = metrics
        self._rooms: dict[str, RoomTranscription] = {}

    async def run(self) -> None:
        async for message in self._bus.inputs():
            try:
                await self._handle(message)
            except Exception:  # one room's failure must not stop the others
                log.exception("room %s: could not handle %s", message.room_id, message.kind)

    async def close(self) -> None:
        for room_id in list(self._rooms):
            await self._stop(room_id)

    async def _handle(self, message: RoomInput) -> None:
        room = self._rooms.get(message.room_id)
        if message.kind == "start" or (room is None and message.kind in ("audio", "text")):
            room = await self._start(message)
        if room is None or room.session_id != message.session_id:
            if message.kind != "stop":
                log.warning("room %s: %s for a session that is not live", message.room_id, message.kind)
            return
        if message.kind == "audio":
            await self._audio(room, message.pcm)
        elif message.kind == "text":
            await self._text(room, message.text, message.final)
        elif message.kind == "pause" and room.recognizer is not None:
            await room.recognizer.flush()
        elif message.kind == "stop":
            await self._stop(message.room_id)

    async def _start(self, message: RoomInput) -> RoomTranscription:
        current = self._rooms.get(message.room_id)
        if current is not None:
            if current.session_id == message.session_id:
                return current
            await self._stop(message.room_id)
        recognizer = self._engine.open_stream(message.language) if self._engine else None
        room = RoomTranscription(message.room_id, message.session_id, recognizer)
        if recognizer is not None:
            room.reader = asyncio.create_task(self._read(room, recognizer))
        self._rooms[message.room_id] = room
        self._metrics.rooms_live.set(len(self._rooms))
        return room

    async def _stop(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        self._metrics.rooms_live.set(len(self._rooms))
        if room is None:
            return
        if room.recognizer is not None:
            await room.recognizer.finish()
        if room.reader is not None:
            await room.reader
        with contextlib.suppress(KeyError):
            self._metrics.inference_rtf.remove(room_id)

    async def _audio(self, room: RoomTranscription, pcm: bytes) -> None:
        if room.recognizer is None:
            return
        try:
            await room.recognizer.feed(pcm)
        except AudioFormatError:
            log.warning("room %s: dropped a malformed frame", room.room_id)
            return
        room.audio_seconds += len(pcm) / BYTES_PER_SAMPLE / SAMPLE_RATE

    async def _text(self, room: RoomTranscription, text: str, final: bool) -> None:
        """Browser-recognised words: timed by the wall clock since the session started."""
        moment = time.monotonic() - room.started
        await self._emit(room, "final" if final else "partial", text.strip(), moment, moment)

    async def _read(self, room: RoomTranscription, recognizer: RecognizerSession) -> None:
        async for event in recognizer.events():
            try:
                await self._emit(room, event.kind, event.text, event.start, event.end, event)
            except Exception:
                log.exception("room %s: could not deliver a caption", room.room_id)
            if room.audio_seconds:
                self._metrics.inference_rtf.labels(room.room_id).set(
                    recognizer.busy_seconds / room.audio_seconds
                )

    async def _emit(
        self,
        room: RoomTranscription,
        kind: str,
        text: str,
        start: float,
        end: float,
        event: CaptionEvent | None = None,
    ) -> None:
        seq = room.finals
        caption = Caption(
            id=caption_id(room.session_id, seq),
            kind="final" if kind == "final" else "partial",
            text=text,
            start=round(start, 3),
            end=round(end, 3),
            session_id=room.session_id,
        )
        if kind == "final":
            if not text:
                return
            room.finals += 1
            await self._store.append_final(
                CaptionRecord(
                    caption.id, room.room_id, room.session_id, seq, text, caption.start, caption.end
                )
            )
        if event is not None:
            self._metrics.caption_latency.labels(kind).observe(max(0.0, event.audio_position - event.end))
        await self._bus.publish_caption(CaptionMessage(room.room_id, caption))

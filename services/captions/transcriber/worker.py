"""The transcriber: turns each live room's input into captions, persists the finals, publishes everything.

It is the one writer of a room's captions, so numbering stays consistent whether the words come from the
server's recogniser or from the presenter's browser. Caption ids are ``{session_id}:{seq}``; a partial
carries the id its final will take. A session always continues from the finals already stored (a room taken
over from a transcriber that died starts from its first unsettled input): same numbering, and words that end
before the last stored final are not captioned again.
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
from captions.asr.streaming import Resume
from captions.audio.pcm import BYTES_PER_SAMPLE, SAMPLE_RATE, AudioFormatError
from captions.bus.base import Bus, RoomEvent, RoomInput
from captions.metrics import Metrics
from captions.protocol import Caption, Lag
from captions.store.base import CaptionRecord, Store

log = logging.getLogger(__name__)
# Lag below this is the normal rhythm of decoding; above it the presenter is told.
LAG_NOTICE_S = 1.0
LAG_REPORT_INTERVAL_S = 1.0
RESUME_PROMPT_FINALS = 5


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
    settled: float = 0.0
    lag_reported: float = 0.0
    lag_reported_at: float = 0.0
    released: bool = False


class TranscriberWorker:
    def __init__(
        self, engine: Engine | None, store: Store, bus: Bus, metrics: Metrics, lag_skip_s: float
    ) -> None:
        self._engine = engine
        self._store = store
        self._bus = bus
        self._metrics = metrics
        self._lag_skip_s = lag_skip_s
        self._rooms: dict[str, RoomTranscription] = {}

    async def run(self) -> None:
        async for message in self._bus.inputs():
            try:
                await self._handle(message)
            except Exception:  # one room's failure must not stop the others
                log.exception("room %s: could not handle %s", message.room_id, message.kind)

    async def close(self) -> None:
        """The one-process server stops: settle every room."""
        for room_id in list(self._rooms):
            await self._stop(room_id)

    async def release_all(self) -> None:
        """This transcriber stops but the rooms go on elsewhere: drop them without settling anything."""
        for room_id in list(self._rooms):
            await self._release(room_id)

    async def _handle(self, message: RoomInput) -> None:
        if message.kind == "release":
            await self._release(message.room_id)
            return
        room = self._rooms.get(message.room_id)
        if message.kind == "start" or (room is None and message.kind in ("audio", "text")):
            room = await self._open(message)
        if room is None or room.session_id != message.session_id:
            if message.kind == "stop":
                await self._bus.finished(message.room_id, message.session_id)
            else:
                log.warning("room %s: %s for a session that is not live", message.room_id, message.kind)
            return
        if message.kind == "audio":
            await self._audio(room, message.pcm)
        elif message.kind == "text":
            await self._text(room, message.text, message.final)
            await self._bus.handled(message)
        elif message.kind == "pause" and room.recognizer is not None:
            await room.recognizer.flush()
        elif message.kind == "stop":
            await self._stop(message.room_id)
            await self._bus.finished(message.room_id, message.session_id)

    async def _open(self, message: RoomInput) -> RoomTranscription:
        """The session's recogniser, continuing after the finals already stored (none for a new session)."""
        current = self._rooms.get(message.room_id)
        if current is not None:
            if current.session_id == message.session_id:
                return current
            await self._stop(message.room_id)
        stored = await self._store.captions(message.session_id)
        resume = Resume(
            at=message.at,
            committed_end=stored[-1].end if stored else 0.0,
            prompt=" ".join(record.text for record in stored[-RESUME_PROMPT_FINALS:]),
        )
        recognizer = self._engine.open_stream(message.language, resume=resume) if self._engine else None
        room = RoomTranscription(message.room_id, message.session_id, recognizer)
        room.audio_seconds = room.settled = message.at
        room.finals = stored[-1].seq + 1 if stored else 0
        if stored:
            log.info("room %s: session %s continues at %.1f s after %d finals", room.room_id,
                     room.session_id, message.at, room.finals)  # fmt: skip
        if recognizer is not None:
            room.reader = asyncio.create_task(self._read(room, recognizer))
        self._rooms[message.room_id] = room
        self._metrics.rooms_live.set(len(self._rooms))
        return room

    async def _release(self, room_id: str) -> None:
        """Another transcriber owns the room now: stop at once, say nothing more."""
        room = self._rooms.pop(room_id, None)
        self._metrics.rooms_live.set(len(self._rooms))
        if room is None:
            return
        room.released = True
        if room.recognizer is not None:
            room.recognizer.abandon()
        if room.reader is not None:
            room.reader.cancel()
            await asyncio.gather(room.reader, return_exceptions=True)
        self._forget_metrics(room_id)

    async def _stop(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        self._metrics.rooms_live.set(len(self._rooms))
        if room is None:
            return
        if room.recognizer is not None:
            await room.recognizer.finish()
        if room.reader is not None:
            await room.reader
        if room.lag_reported:
            await self._bus.publish(RoomEvent(room_id, "lag", Lag(room=room_id, seconds=0.0)))
        self._forget_metrics(room_id)

    def _forget_metrics(self, room_id: str) -> None:
        for gauge in (self._metrics.inference_rtf, self._metrics.transcription_lag):
            with contextlib.suppress(KeyError):
                gauge.remove(room_id)

    async def _audio(self, room: RoomTranscription, pcm: bytes) -> None:
        if room.recognizer is None:
            return
        try:
            await room.recognizer.feed(pcm)
        except AudioFormatError:
            log.warning("room %s: dropped a malformed frame", room.room_id)
            return
        room.audio_seconds += len(pcm) / BYTES_PER_SAMPLE / SAMPLE_RATE
        await self._report_lag(room, room.recognizer.lag_seconds)

    async def _report_lag(self, room: RoomTranscription, lag: float) -> None:
        """Tell the room when its captions fall behind, while they are, and when they have caught up."""
        self._metrics.transcription_lag.labels(room.room_id).set(lag)
        moment = time.monotonic()
        behind = lag >= LAG_NOTICE_S
        if behind and room.lag_reported and moment - room.lag_reported_at < LAG_REPORT_INTERVAL_S:
            return
        if not behind and not room.lag_reported:
            return
        room.lag_reported = lag if behind else 0.0
        room.lag_reported_at = moment
        seconds = round(lag, 1) if behind else 0.0
        await self._bus.publish(RoomEvent(room.room_id, "lag", Lag(room=room.room_id, seconds=seconds)))

    async def _text(self, room: RoomTranscription, text: str, final: bool) -> None:
        """Browser-recognised words: timed by the wall clock since the session started."""
        moment = time.monotonic() - room.started
        await self._emit(room, "final" if final else "partial", text.strip(), moment, moment)

    async def _read(self, room: RoomTranscription, recognizer: RecognizerSession) -> None:
        async for event in recognizer.events():
            if room.released:
                return
            try:
                await self._emit(room, event.kind, event.text, event.start, event.end, event)
                if event.settled > room.settled:
                    room.settled = event.settled
                    await self._bus.settled(room.room_id, room.session_id, event.settled)
            except Exception:
                log.exception("room %s: could not deliver a caption", room.room_id)
            if room.audio_seconds:
                self._metrics.inference_rtf.labels(room.room_id).set(
                    recognizer.busy_seconds / room.audio_seconds
                )
            if room.lag_reported:
                await self._report_lag(room, recognizer.lag_seconds)

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
        elif room.recognizer is not None and room.recognizer.lag_seconds > self._lag_skip_s:
            self._metrics.partials_skipped.inc()  # behind real time: the next final says it all
            return
        if event is not None:
            self._metrics.caption_latency.labels(kind).observe(max(0.0, event.audio_position - event.end))
        await self._bus.publish(RoomEvent.caption(room.room_id, caption))

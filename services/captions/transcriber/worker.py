"""The transcriber: turns each live room's input into captions, persists the finals, publishes everything.

It is the one writer of a room's captions, so numbering stays consistent whether the words come from the
server's recogniser or from the presenter's browser. Caption ids are ``{session_id}:{seq}``; a partial
carries the id its final will take. A session always continues from the finals already stored (a room taken
over from a transcriber that died, or a server restarted mid-talk, starts from its first unsettled input): same
numbering, and words that end before the last stored final are not captioned again.

It also keeps the record of how far each session is settled (the last frame whose audio is transcribed and
stored), and it alone ends a stopped session: after its last final is stored, so ``ended`` means complete.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from captions.audio.pcm import AudioFormatError
from captions.bus.events import RoomEvent, RoomEvents, SessionEnded
from captions.bus.inputs import RoomInput, RoomInputs
from captions.metrics import Metrics
from captions.protocol import Caption, Lag, RecognizerNotice, caption_id
from captions.recognizers.base import RecognizerStream, Resume
from captions.recognizers.events import CaptionEvent, RestartPoint
from captions.recognizers.registry import Recognizers
from captions.rooms.service import now
from captions.store.base import CaptionRecord, RoomGone, Store
from captions.transcriber.lanes import RoomLanes
from captions.transcriber.sinks import CaptionSink, NoSink
from captions.transcriber.store_retry import until_stored

log = logging.getLogger(__name__)
# Lag below this is the normal rhythm of decoding; above it the presenter is told.
LAG_NOTICE_S = 1.0
LAG_REPORT_INTERVAL_S = 1.0
# Enough finals for ``Resume.after``'s context however short each is (a final can be one word).
RESUME_PROMPT_FINALS = 200
# Browser recognition gives no word times: a final that came without a partial is given this long per word.
TEXT_SECONDS_PER_WORD = 0.35


class RoomMoved(Exception):
    """Another transcriber has the room now (this one's lease went while Redis failed over)."""


@dataclass(frozen=True)
class _Frame:
    seq: int
    end: float  # session time at the end of the frame


@dataclass
class RoomTranscription:
    """One live session of one room."""

    room_id: str
    session_id: str
    recognizer: RecognizerStream | None
    finals: int = 0
    audio_seconds: float = 0.0
    last_seq: int = -1  # the last frame fed: a frame resent after a gateway crashed is not fed twice
    reader: asyncio.Task[None] | None = None
    settled: float = 0.0
    # Frames fed but not settled yet; bounded by the recogniser's settled marks (one a second at least).
    unsettled: deque[_Frame] = field(default_factory=deque)
    last_end: float = 0.0  # end of the last final
    text_started: float | None = None  # session time of the first partial of the browser caption in progress
    lag_reported: float = 0.0
    lag_reported_at: float = 0.0
    lag: float = 0.0
    realtime_factor: float = 0.0
    released: bool = False
    moved: bool = False  # another transcriber has it now: nothing more is stored, settled or told


class TranscriberWorker:
    def __init__(
        self,
        recognizers: Recognizers | None,
        store: Store,
        inputs: RoomInputs,
        events: RoomEvents,
        metrics: Metrics,
        lag_skip_s: float,
        sink: CaptionSink | None = None,
    ) -> None:
        self._recognizers = recognizers
        self._sink: CaptionSink = sink or NoSink()
        self._store = store
        self._inputs = inputs
        self._events = events
        self._metrics = metrics
        self._lag_skip_s = lag_skip_s
        self._rooms: dict[str, RoomTranscription] = {}
        self._lanes = RoomLanes(self._handle_safely)

    async def run(self) -> None:
        """Each room's input is handled in its own lane, in order: a room whose recogniser is full (or whose
        store write is retried, or whose stop is being settled) holds back only its own input."""
        async for message in self._inputs.inputs():
            self._lanes.take(message)
        await self._lanes.drained()

    async def close(self) -> None:
        """The one-process server stops: settle every room (its session goes on when the server is back)."""
        await self._lanes.cancel()
        for room_id in list(self._rooms):
            await self._settle_all(room_id)

    async def release_all(self) -> None:
        """This transcriber stops but the rooms go on elsewhere: drop them without settling anything."""
        await self._lanes.cancel()
        for room_id in list(self._rooms):
            await self._release(room_id)

    async def _handle_safely(self, message: RoomInput) -> None:
        try:
            await self._handle(message)
        except RoomMoved:
            await self._release(message.room_id)
        except RoomGone:
            log.info("room %s was deleted; dropping its input", message.room_id)
            await self._forget(message.room_id)
        except Exception:  # one room's failure must not stop the others
            log.exception("room %s: could not handle %s", message.room_id, message.kind)

    async def _handle(self, message: RoomInput) -> None:
        if message.kind == "release":
            await self._release(message.room_id)
            return
        if message.kind == "delete":
            await self._forget(message.room_id)
            return
        room = self._rooms.get(message.room_id)
        if message.kind == "destinations":
            if room is not None and not room.released:
                await self._sink.changed(room.room_id, room.session_id, room.finals)
            await self._inputs.handled(message)
            return
        if room is not None and room.released:
            raise RoomGone(message.room_id)
        if message.kind == "park":
            await self._park(message)
            return
        if message.kind == "start" or (room is None and message.kind in ("audio", "text")):
            room = await self._open(message)
        if message.kind == "stop":
            await self._end(message)
            return
        if room is None or room.session_id != message.session_id:
            log.warning("room %s: %s for a session that is not live", message.room_id, message.kind)
            return
        if message.kind == "audio":
            await self._audio(room, message)
        elif message.kind == "text":
            await self._text(room, message)
            await self._inputs.handled(message)
        elif message.kind == "pause" and room.recognizer is not None:
            await room.recognizer.flush()
        elif message.kind == "vocabulary":
            if room.recognizer is not None:
                room.recognizer.set_vocabulary([term for term in message.text.split("\n") if term])
            await self._inputs.handled(message)

    async def _open(self, message: RoomInput) -> RoomTranscription:
        """The session's recogniser, continuing after the finals already stored (none for a new session)."""
        current = self._rooms.get(message.room_id)
        if current is not None:
            if current.session_id == message.session_id:
                return current
            await self._settle_all(message.room_id)
        record = await self._store.get_room(message.room_id)
        if record is None:
            raise RoomGone(message.room_id)
        stored = await self._store.last_captions(message.session_id, RESUME_PROMPT_FINALS)
        resume = Resume.after(message.at, stored, await self._restart_point(message))
        recognizer: RecognizerStream | None = None
        if self._recognizers is not None:
            wanted = record.recognizer

            async def fell_back(reason: str) -> None:
                await self._tell_recognizer(message.room_id, wanted, reason)

            recognizer, why = self._recognizers.open_stream(
                wanted, message.language, record.vocabulary, resume, fell_back
            )
            if why:
                await self._tell_recognizer(message.room_id, wanted, why)
        room = RoomTranscription(message.room_id, message.session_id, recognizer)
        room.audio_seconds = room.settled = message.at
        room.finals = stored[-1].seq + 1 if stored else 0
        room.last_end = stored[-1].end if stored else 0.0
        if stored:
            log.info("room %s: session %s continues at %.1f s after %d finals", room.room_id,
                     room.session_id, message.at, room.finals)  # fmt: skip
        await self._sink.opened(room.room_id, room.session_id, room.finals)  # unsent finals before new ones
        if recognizer is not None:
            room.reader = asyncio.create_task(self._read(room, recognizer))
        self._rooms[message.room_id] = room
        self._metrics.rooms_live.set(len(self._rooms))
        return room

    async def _tell_recognizer(self, room_id: str, requested: str, reason: str) -> None:
        """The presenter learns that the room's captions come from the local model, and why."""
        log.warning("room %s: %s; captions come from the local model", room_id, reason)
        notice = RecognizerNotice(room=room_id, requested=requested, active="local", reason=reason)
        await self._events.publish(RoomEvent(room_id, "recognizer", notice))

    async def _end(self, message: RoomInput) -> None:
        """Stop: settle everything heard, then the session is ended (its transcript is complete)."""
        room = self._rooms.get(message.room_id)
        if room is not None and room.session_id == message.session_id:
            await self._settle_all(message.room_id)
        ended_at = now()
        await until_stored(
            message.room_id,
            "the session's end",
            lambda: self._store.end_session(message.session_id, ended_at),
        )
        await self._events.publish(
            RoomEvent(message.room_id, "ended", SessionEnded(session_id=message.session_id))
        )
        await self._sink.ended(message.room_id, message.session_id)
        await self._inputs.finished(message.room_id, message.session_id)

    async def _park(self, message: RoomInput) -> None:
        """The session gives its slot back (paused or without presenter too long): everything heard is stored
        as at a Stop, but the session goes on; a ``start`` opens it again where it stopped."""
        room = self._rooms.get(message.room_id)
        if room is not None and room.session_id == message.session_id:
            await self._settle_all(message.room_id)
        await self._sink.ended(message.room_id, message.session_id)
        await self._inputs.finished(message.room_id, message.session_id)

    async def _forget(self, room_id: str) -> None:
        """The room was deleted: drop it at once, and whatever the bus keeps of it."""
        await self._release(room_id)
        await self._inputs.forget(room_id)

    async def _release(self, room_id: str) -> None:
        """Another transcriber owns the room now (or it is gone): stop at once, say nothing more."""
        await self._sink.released(room_id)
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
        self._update_gauges()

    async def _settle_all(self, room_id: str) -> None:
        """Everything heard becomes final and is stored; the room's recogniser closes."""
        room = self._rooms.pop(room_id, None)
        self._metrics.rooms_live.set(len(self._rooms))
        if room is None:
            return
        if room.recognizer is not None:
            await room.recognizer.finish()
        if room.reader is not None:
            await room.reader
        if room.moved:  # what it heard is the new owner's to settle and end
            raise RoomMoved(room_id)
        await self._settle(room, float("inf"))
        if room.lag_reported:
            await self._events.publish(RoomEvent(room_id, "lag", Lag(room=room_id, seconds=0.0)))
        self._update_gauges()

    def _update_gauges(self) -> None:
        """The worst room, with no room id: a metric label must not hand out what joins a room."""
        rooms = self._rooms.values()
        self._metrics.transcription_lag.set(max((room.lag for room in rooms), default=0.0))
        self._metrics.inference_rtf.set(max((room.realtime_factor for room in rooms), default=0.0))

    async def _audio(self, room: RoomTranscription, message: RoomInput) -> None:
        if message.seq <= room.last_seq:
            return
        if room.recognizer is None:  # nothing will hear it: it is done with, and must not count as a backlog
            await self._inputs.settled(room.room_id, room.session_id, message.end)
            return
        room.last_seq = message.seq
        try:
            await room.recognizer.feed(message.pcm)
        except AudioFormatError:
            log.warning("room %s: dropped a malformed frame", room.room_id)
            return
        room.audio_seconds = message.end
        room.unsettled.append(_Frame(message.seq, message.end))
        await self._report_lag(room, room.recognizer.lag_seconds)

    async def _restart_point(self, message: RoomInput) -> RestartPoint | None:
        """The restart point the session's last owner stored, if any (a new session has none)."""
        if not message.at:
            return None
        session = await self._store.latest_session(message.room_id)
        if session is None or session.id != message.session_id or session.restart_at is None:
            return None
        return RestartPoint(session.restart_at, session.listen_from)

    async def _settle(
        self, room: RoomTranscription, seconds: float, listen_from: float | None = None
    ) -> None:
        """Audio before ``seconds`` is transcribed and stored: record the last frame it covers, and the restart
        point ``seconds`` is where ``listen_from`` is given (the next owner resumes there exactly)."""
        last: _Frame | None = None
        while room.unsettled and room.unsettled[0].end <= seconds + 1e-6:
            last = room.unsettled.popleft()
        if last is not None:
            restart = None if listen_from is None else (seconds, listen_from)
            session_id, seq, at = room.session_id, last.seq, last.end
            await until_stored(
                room.room_id,
                "how far it is transcribed",
                lambda: self._store.settle_session(session_id, seq, at, restart),
            )
        if seconds > room.settled:
            room.settled = min(seconds, room.audio_seconds)
            await self._inputs.settled(room.room_id, room.session_id, seconds)

    async def _report_lag(self, room: RoomTranscription, lag: float) -> None:
        """Tell the room when its captions fall behind, while they are, and when they have caught up."""
        room.lag = lag
        self._update_gauges()
        moment = time.monotonic()
        behind = lag >= LAG_NOTICE_S
        if behind and room.lag_reported and moment - room.lag_reported_at < LAG_REPORT_INTERVAL_S:
            return
        if not behind and not room.lag_reported:
            return
        room.lag_reported = lag if behind else 0.0
        room.lag_reported_at = moment
        seconds = round(lag, 1) if behind else 0.0
        await self._events.publish(RoomEvent(room.room_id, "lag", Lag(room=room.room_id, seconds=seconds)))

    async def _text(self, room: RoomTranscription, message: RoomInput) -> None:
        """Browser-recognised words, timed from the first partial of the caption to its final."""
        moment = max(message.at, room.last_end)
        text = message.text.strip()
        if not message.final:
            if room.text_started is None:
                room.text_started = moment
            await self._emit(room, "partial", text, room.text_started, moment)
            return
        spoken = len(text.split()) * TEXT_SECONDS_PER_WORD
        start = room.text_started if room.text_started is not None else max(room.last_end, moment - spoken)
        room.text_started = None
        await self._emit(room, "final", text, start, max(moment, start + spoken / 2))

    async def _read(self, room: RoomTranscription, recognizer: RecognizerStream) -> None:
        async for event in recognizer.events():
            if room.released:
                return
            try:
                if event.kind != "settled":
                    await self._emit(room, event.kind, event.text, event.start, event.end, event)
                await self._settle(room, event.settled, event.listen_from)
            except RoomGone:
                room.released = True  # the room was deleted: its next input drops it
                return
            except RoomMoved:
                room.released = room.moved = True
                return
            except Exception:
                log.exception("room %s: could not deliver a caption", room.room_id)
            if room.audio_seconds:
                room.realtime_factor = recognizer.busy_seconds / room.audio_seconds
                self._update_gauges()
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
            if not await self._inputs.owns(room.room_id):
                log.warning("room %s: another transcriber has it now; final %d not stored", room.room_id, seq)
                raise RoomMoved(room.room_id)
            record = CaptionRecord(
                caption.id, room.room_id, room.session_id, seq, text, caption.start, caption.end
            )
            # Stored before it is told and before the audio it covers counts as transcribed (``_settle``): a
            # transcriber that dies while the store refuses leaves that audio to be heard again.
            await until_stored(room.room_id, "a final", lambda: self._store.append_final(record))
            room.finals += 1
            room.last_end = caption.end
        elif room.recognizer is not None and room.recognizer.lag_seconds > self._lag_skip_s:
            self._metrics.partials_skipped.inc()  # behind real time: the next final says it all
            return
        behind = max(0.0, event.audio_position - event.end) if event is not None else 0.0
        if event is not None:
            self._metrics.caption_latency.labels(kind).observe(behind)
        await self._events.publish(RoomEvent.caption(room.room_id, caption))
        if kind == "final":  # after the room's own viewers: sending it on never goes before them
            self._sink.final(room.room_id, record, behind)

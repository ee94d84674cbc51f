"""The Socket.IO side of the gateway: who may connect, what clients send, what they receive.

Every client event is validated against its pydantic model; anything wrong gets an ``error`` event with a code
and affects only that client. Captions from the bus are delivered to the Socket.IO room of the same id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, Protocol, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from captions.audio.pcm import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.bus.base import Bus, CaptionMessage, RoomInput
from captions.gateway.limits import TokenBucket
from captions.gateway.live import Client, LiveRoom
from captions.metrics import Metrics
from captions.protocol import AudioFrame, Caption, ConnectAuth, Correction, ErrorEvent, TextCaption
from captions.rooms.service import key_matches, new_session_id, now
from captions.settings import Settings
from captions.store.base import CaptionRecord, SessionRecord, Store
from captions.transcriber.worker import parse_caption_id

log = logging.getLogger(__name__)
Payload = TypeVar("Payload", bound=BaseModel)


class ClientError(Exception):
    """Something a client sent that cannot be taken; becomes an ``error`` event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Handler(Protocol):
    def __call__(self, sid: str, data: Any = None) -> Awaitable[Any]: ...


class RealtimeGateway:
    def __init__(
        self, sio: socketio.AsyncServer, settings: Settings, store: Store, bus: Bus, metrics: Metrics
    ):
        self._sio = sio
        self._settings = settings
        self._store = store
        self._bus = bus
        self._metrics = metrics
        self._clients: dict[str, Client] = {}
        self._rooms: dict[str, LiveRoom] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        handlers: dict[str, Callable[[str, Any], Awaitable[None]]] = {
            "audio": self._audio,
            "start": self._start,
            "pause": self._pause,
            "stop": self._stop,
            "text": self._text,
            "correct": self._correct,
        }
        for event, handler in handlers.items():
            sio.on(event, self._guarded(handler))
        sio.on("*", self._unknown)

    # --- what the REST side asks ---------------------------------------------------------------------

    def live_room(self, room_id: str) -> LiveRoom | None:
        return self._rooms.get(room_id)

    async def close_room(self, room_id: str) -> None:
        """The room was deleted: end its session and disconnect everyone in it."""
        live = self._rooms.get(room_id)
        if live is None:
            return
        if live.session_id:
            await self._end_session(live)
        for sid in [live.presenter_sid, *live.viewers]:
            if sid:
                await self._send_error(sid, "room_deleted", "this room was deleted")
                await self._sio.disconnect(sid)

    # --- background work -----------------------------------------------------------------------------

    async def fan_out(self) -> None:
        """Deliver every caption of the bus to the clients of this gateway in its room."""
        async for message in self._bus.captions():
            live = self._rooms.get(message.room_id)
            skip: list[str] = []
            if live is not None and live.catching_up:
                for waiting in live.catching_up.values():
                    waiting.append(message.caption)
                skip = list(live.catching_up)
            await self._sio.emit(
                "caption", message.caption.model_dump(), room=message.room_id, skip_sid=skip or None
            )

    async def expire_idle_sessions(self) -> None:
        timeout = self._settings.session_idle_timeout_s
        while True:
            await asyncio.sleep(min(5.0, timeout / 4))
            deadline = time.monotonic() - timeout
            for live in list(self._rooms.values()):
                if live.session_id and live.last_activity < deadline:
                    log.info("room %s: session %s idle, ending it", live.room_id, live.session_id)
                    await self._end_session(live)
                    await self._broadcast_status(live)

    # --- connection ----------------------------------------------------------------------------------

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            request = ConnectAuth.model_validate(auth or {})
        except ValidationError as error:
            self._refuse(
                "bad_auth", f"connect with auth {{room, role, key?, last_id?}}: {_first_error(error)}"
            )
        record = await self._store.get_room(request.room)
        if record is None:
            self._refuse("unknown_room", f"there is no room {request.room!r}")
        if request.role == "presenter" and not key_matches(record, request.key):
            self._refuse("bad_key", "the presenter key of this room is wrong")

        settings = self._settings
        self._clients[sid] = Client(
            request.room,
            request.role,
            TokenBucket(settings.audio_rate, settings.audio_burst_s),
            TokenBucket(settings.event_rate, settings.event_burst),
        )
        live = self._rooms.setdefault(request.room, LiveRoom(request.room, record.language))
        await self._sio.enter_room(sid, request.room)
        # Presenters catch up too: a presenter whose connection dropped must not miss its own captions.
        live.catching_up[sid] = []
        if request.role == "presenter":
            replaced = live.presenter_sid
            live.presenter_sid = sid
            if replaced and replaced != sid:
                self._spawn(self._replace_presenter(replaced))
        else:
            live.viewers.add(sid)
            self._metrics.viewers.inc()
        self._spawn(self._welcome(sid, live, request.last_id))

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        client = self._clients.pop(sid, None)
        if client is None:
            return
        live = self._rooms.get(client.room_id)
        if live is None:
            return
        live.catching_up.pop(sid, None)
        if live.presenter_sid == sid:
            live.presenter_sid = None
            await self._broadcast_status(live)
        elif sid in live.viewers:
            live.viewers.discard(sid)
            self._metrics.viewers.dec()
            self._status_soon(live)
        if live.empty:
            self._rooms.pop(client.room_id, None)

    async def _welcome(self, sid: str, live: LiveRoom, last_id: str | None) -> None:
        """Status, then the captions this client missed, then what arrived meanwhile: once each, in order."""
        sent: set[str] = set()
        try:
            await self._sio.emit("status", live.status().model_dump(), to=sid)
            if sid in live.catching_up:
                for record in await self._missed(live, last_id):
                    caption = _caption(record)
                    sent.add(caption.id)
                    await self._sio.emit("caption", caption.model_dump(), to=sid)
        finally:
            for caption in live.catching_up.pop(sid, []):
                if caption.kind != "final" or caption.id not in sent:
                    await self._sio.emit("caption", caption.model_dump(), to=sid)
            if live.presenter_sid != sid:
                self._status_soon(live)
            else:
                await self._broadcast_status(live)

    async def _missed(self, live: LiveRoom, last_id: str | None) -> list[CaptionRecord]:
        seen = parse_caption_id(last_id) if last_id else None
        if seen is None:
            if live.session_id is None:
                return []
            records = await self._store.captions(live.session_id)
            return records[-self._settings.catchup_finals :] if self._settings.catchup_finals else []
        session_id, seq = seen
        records = await self._store.captions(session_id, after_seq=seq)
        if live.session_id and live.session_id != session_id:
            records += await self._store.captions(live.session_id)
        return records

    async def _replace_presenter(self, sid: str) -> None:
        await self._send_error(sid, "presenter_replaced", "the presenter key was used on another connection")
        await self._sio.disconnect(sid)

    # --- presenter events ----------------------------------------------------------------------------

    async def _audio(self, sid: str, data: Any) -> None:
        client, live = self._presenter(sid)
        frame = _parse(AudioFrame, data)
        size = len(frame.pcm)
        if size > self._settings.max_frame_bytes:
            raise ClientError(
                "frame_too_large", f"audio frames hold at most {self._settings.max_frame_bytes} bytes"
            )
        if size % BYTES_PER_SAMPLE:
            raise ClientError("bad_frame_length", "PCM16 frames hold whole 2-byte samples")
        seconds = size / BYTES_PER_SAMPLE / SAMPLE_RATE
        if not client.audio.take(seconds):
            raise ClientError("rate_limited", "audio is arriving faster than real time; slow down")
        if live.session_id is None or live.state != "live":
            await self._begin(live)
        if frame.seq <= live.last_seq:
            return  # resent after a reconnect: already transcribed
        live.last_seq = frame.seq
        live.last_activity = time.monotonic()
        self._metrics.audio_seconds.inc(seconds)
        await self._send(live, "audio", seq=frame.seq, pcm=frame.pcm)

    async def _start(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        await self._begin(live)

    async def _pause(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        if live.state == "live":
            live.state = "paused"
            await self._send(live, "pause")
            await self._broadcast_status(live)

    async def _stop(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        if live.session_id:
            await self._end_session(live)
            await self._broadcast_status(live)

    async def _text(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        caption = _parse(TextCaption, data)
        if live.session_id is None or live.state != "live":
            await self._begin(live)
        live.last_activity = time.monotonic()
        await self._send(live, "text", text=caption.text, final=caption.kind == "final")

    async def _correct(self, sid: str, data: Any) -> None:
        client, _ = self._presenter(sid)
        correction = _parse(Correction, data)
        record = await self._store.correct(client.room_id, correction.id, correction.text.strip())
        if record is None:
            raise ClientError("unknown_caption", f"this room has no final caption {correction.id!r}")
        caption = _caption(record).model_copy(update={"kind": "correction"})
        await self._bus.publish_caption(CaptionMessage(client.room_id, caption))

    async def _unknown(self, event: str, sid: str, data: Any = None) -> None:
        self._metrics.rejected.labels("unknown_event").inc()
        await self._send_error(sid, "unknown_event", f"there is no event {event!r}")

    # --- sessions ------------------------------------------------------------------------------------

    async def _begin(self, live: LiveRoom) -> None:
        """Start a session, or resume a paused one."""
        live.last_activity = time.monotonic()
        if live.session_id and live.state == "paused":
            live.state = "live"
        elif live.session_id is None:
            live.session_id = new_session_id()
            live.state = "live"
            live.last_seq = -1
            await self._store.start_session(SessionRecord(live.session_id, live.room_id, now()))
            await self._send(live, "start", language=live.language)
        else:
            return
        await self._broadcast_status(live)

    async def _end_session(self, live: LiveRoom) -> None:
        session_id = live.session_id
        if session_id is None:
            return
        await self._send(live, "stop")
        live.session_id, live.state, live.last_seq = None, "idle", -1
        await self._store.end_session(session_id, now())

    async def _send(self, live: LiveRoom, kind: Any, **fields: Any) -> None:
        assert live.session_id is not None
        await self._bus.send_input(RoomInput(live.room_id, live.session_id, kind, **fields))

    # --- helpers -------------------------------------------------------------------------------------

    def _presenter(self, sid: str) -> tuple[Client, LiveRoom]:
        client = self._clients.get(sid)
        if client is None:
            raise ClientError("not_connected", "connect first")
        if client.role != "presenter":
            raise ClientError("forbidden", "only the presenter of a room may send this")
        live = self._rooms.get(client.room_id)
        if live is None or live.presenter_sid != sid:
            raise ClientError("forbidden", "this connection is no longer the room's presenter")
        return client, live

    def _guarded(self, handler: Callable[[str, Any], Awaitable[None]]) -> Handler:
        async def guarded(sid: str, data: Any = None) -> None:
            client = self._clients.get(sid)
            try:
                if handler != self._audio and client is not None and not client.events.take():
                    raise ClientError("rate_limited", "too many events; slow down")
                await handler(sid, data)
            except ClientError as error:
                self._metrics.rejected.labels(error.code).inc()
                await self._send_error(sid, error.code, error.message)
            except Exception:
                log.exception("handling an event of %s", sid)
                await self._send_error(sid, "internal_error", "the server could not handle that event")

        return guarded

    async def _send_error(self, sid: str, code: str, message: str) -> None:
        await self._sio.emit("error", ErrorEvent(code=code, message=message).model_dump(), to=sid)

    @staticmethod
    def _refuse(code: str, message: str) -> NoReturn:
        raise socketio.exceptions.ConnectionRefusedError(message, {"code": code})

    async def _broadcast_status(self, live: LiveRoom) -> None:
        await self._sio.emit("status", live.status().model_dump(), room=live.room_id)

    def _status_soon(self, live: LiveRoom) -> None:
        """Viewer counts change with every join; tell the room at most every ``status_interval_s``."""
        if live.status_scheduled:
            return
        live.status_scheduled = True

        async def later() -> None:
            await asyncio.sleep(self._settings.status_interval_s)
            live.status_scheduled = False
            await self._broadcast_status(live)

        self._spawn(later())

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _parse(model: type[Payload], data: Any) -> Payload:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ClientError("bad_payload", _first_error(error)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    return f"{where}: {first['msg']}"


def _caption(record: CaptionRecord) -> Caption:
    return Caption(
        id=record.id,
        kind="final",
        text=record.text,
        start=record.start,
        end=record.end,
        session_id=record.session_id,
    )

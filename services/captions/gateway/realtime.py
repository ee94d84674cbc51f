"""The Socket.IO side of the gateway: who may connect, what clients send, what they receive.

Every client event is validated against its pydantic model; anything wrong gets an ``error`` event with a code
and affects only that client. Room events from the bus (captions, status, lag) are delivered to the Socket.IO
room of the same id; the session and presence every gateway must agree on live in the shared room state.
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
from captions.bus.base import Bus, RoomEvent, RoomInput
from captions.gateway.limits import TokenBucket
from captions.gateway.live import Client, LiveRoom
from captions.metrics import Metrics
from captions.protocol import (
    AudioFrame,
    Caption,
    ConnectAuth,
    Correction,
    ErrorEvent,
    Status,
    TextCaption,
)
from captions.rooms.service import key_matches, new_session_id, now
from captions.roomstate.base import LiveSession, RoomState
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
        self,
        sio: socketio.AsyncServer,
        settings: Settings,
        store: Store,
        bus: Bus,
        state: RoomState,
        metrics: Metrics,
    ):
        self._sio = sio
        self._settings = settings
        self._store = store
        self._bus = bus
        self._state = state
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

    async def room_status(self, room_id: str) -> Status:
        live = self._rooms.get(room_id)
        if live is None or live.presenter_sid is None:
            return await self._status(room_id, await self._state.session(room_id))
        return await self._status(room_id, live.session)

    async def close_room(self, room_id: str) -> None:
        """The room was deleted: end its session and disconnect everyone in it (on this gateway)."""
        live = self._rooms.get(room_id) or LiveRoom(room_id, "en", await self._state.session(room_id))
        if live.session.session_id:
            await self._end_session(live)
        for sid in [live.presenter_sid, *live.viewers]:
            if sid:
                await self._send_error(sid, "room_deleted", "this room was deleted")
                await self._sio.disconnect(sid)
        await self._state.forget(room_id)

    # --- background work -----------------------------------------------------------------------------

    async def fan_out(self) -> None:
        """Deliver every room event of the bus to the clients of this gateway in that room."""
        async for event in self._bus.events():
            live = self._rooms.get(event.room_id)
            if live is None:
                continue
            skip: list[str] = []
            if isinstance(event.payload, Caption) and live.catching_up:
                for waiting in live.catching_up.values():
                    waiting.append(event.payload)
                skip = list(live.catching_up)
            elif isinstance(event.payload, Status) and live.presenter_sid is None:
                _follow(live.session, event.payload)
            await self._sio.emit(
                event.name, event.payload.model_dump(), room=event.room_id, skip_sid=skip or None
            )

    async def keep_presence(self) -> None:
        """Tell the other gateways this one is alive (its viewers count), and end sessions left idle."""
        timeout = self._settings.session_idle_timeout_s
        interval = min(5.0, timeout / 4, self._settings.presence_ttl_s / 3)
        while True:
            try:
                await self._state.heartbeat()
                await self._expire_idle_sessions(time.time() - timeout)
            except Exception:
                log.exception("keeping presence")
            await asyncio.sleep(interval)

    async def _expire_idle_sessions(self, deadline: float) -> None:
        for live in list(self._rooms.values()):
            if live.presenter_sid is None:
                live.session = await self._state.session(live.room_id)
            if live.session.session_id and live.session.last_activity < deadline:
                log.info("room %s: session %s idle, ending it", live.room_id, live.session.session_id)
                await self._end_session(live)
                await self._broadcast_status(live)
            if live.empty:
                self._rooms.pop(live.room_id, None)

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
        if live.presenter_sid is None or live.presenter_sid == sid:
            # The session may have moved here from another gateway, or changed there.
            live.session = await self._state.session(request.room)
        await self._share_presence(live)
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
            await self._share_presence(live)
            await self._broadcast_status(live)
        elif sid in live.viewers:
            live.viewers.discard(sid)
            self._metrics.viewers.dec()
            await self._share_presence(live)
            self._status_soon(live)
        if live.empty:
            self._rooms.pop(client.room_id, None)

    async def _welcome(self, sid: str, live: LiveRoom, last_id: str | None) -> None:
        """Status, then the captions this client missed, then what arrived meanwhile: once each, in order."""
        sent: set[str] = set()
        try:
            status = await self._status(live.room_id, live.session)
            await self._sio.emit("status", status.model_dump(), to=sid)
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
        current = live.session.session_id
        seen = parse_caption_id(last_id) if last_id else None
        if seen is None:
            if current is None:
                return []
            records = await self._store.captions(current)
            return records[-self._settings.catchup_finals :] if self._settings.catchup_finals else []
        session_id, seq = seen
        records = await self._store.captions(session_id, after_seq=seq)
        if current and current != session_id:
            records += await self._store.captions(current)
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
        session = live.session
        if session.session_id is None or session.state != "live":
            await self._begin(live)
        if frame.seq <= session.last_seq:
            return  # resent after a reconnect: already transcribed
        at = session.audio_seconds
        session.last_seq = frame.seq
        session.audio_seconds += seconds
        session.last_activity = time.time()
        self._metrics.audio_seconds.inc(seconds)
        await self._send(live, "audio", seq=frame.seq, pcm=frame.pcm, at=at)
        await self._state.save_session(live.room_id, session)

    async def _start(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        await self._begin(live)

    async def _pause(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        if live.session.state == "live":
            live.session.state = "paused"
            await self._send(live, "pause")
            await self._state.save_session(live.room_id, live.session)
            await self._broadcast_status(live)

    async def _stop(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        if live.session.session_id:
            await self._end_session(live)
            await self._broadcast_status(live)

    async def _text(self, sid: str, data: Any) -> None:
        _, live = self._presenter(sid)
        caption = _parse(TextCaption, data)
        if live.session.session_id is None or live.session.state != "live":
            await self._begin(live)
        live.session.last_activity = time.time()
        await self._send(live, "text", text=caption.text, final=caption.kind == "final")
        await self._state.save_session(live.room_id, live.session)

    async def _correct(self, sid: str, data: Any) -> None:
        client, _ = self._presenter(sid)
        correction = _parse(Correction, data)
        record = await self._store.correct(client.room_id, correction.id, correction.text.strip())
        if record is None:
            raise ClientError("unknown_caption", f"this room has no final caption {correction.id!r}")
        caption = _caption(record).model_copy(update={"kind": "correction"})
        await self._bus.publish(RoomEvent.caption(client.room_id, caption))

    async def _unknown(self, event: str, sid: str, data: Any = None) -> None:
        self._metrics.rejected.labels("unknown_event").inc()
        await self._send_error(sid, "unknown_event", f"there is no event {event!r}")

    # --- sessions ------------------------------------------------------------------------------------

    async def _begin(self, live: LiveRoom) -> None:
        """Start a session, or resume a paused one."""
        session = live.session
        session.last_activity = time.time()
        if session.session_id and session.state == "paused":
            session.state = "live"
        elif session.session_id is None:
            session_id = new_session_id()
            live.session = session = LiveSession(session_id, "live")
            await self._store.start_session(SessionRecord(session_id, live.room_id, now()))
            await self._send(live, "start")
        else:
            return
        await self._state.save_session(live.room_id, session)
        await self._broadcast_status(live)

    async def _end_session(self, live: LiveRoom) -> None:
        session_id = live.session.session_id
        if session_id is None:
            return
        await self._send(live, "stop")
        live.session = LiveSession()
        await self._state.save_session(live.room_id, live.session)
        await self._store.end_session(session_id, now())

    async def _send(self, live: LiveRoom, kind: Any, **fields: Any) -> None:
        session = live.session
        assert session.session_id is not None
        fields.setdefault("at", session.audio_seconds)
        message = RoomInput(live.room_id, session.session_id, kind, language=live.language, **fields)
        await self._bus.send_input(message)

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

    async def _status(self, room_id: str, session: LiveSession) -> Status:
        presence = await self._state.presence(room_id)
        return Status(
            room=room_id,
            session=session.state,
            session_id=session.session_id,
            presenter_connected=presence.presenter_connected,
            viewers=presence.viewers,
            last_seq=session.last_seq,
        )

    async def _share_presence(self, live: LiveRoom) -> None:
        await self._state.set_presence(live.room_id, live.presenter_sid is not None, len(live.viewers))

    async def _broadcast_status(self, live: LiveRoom) -> None:
        """Through the bus: the room's clients on every gateway see it."""
        status = await self._status(live.room_id, live.session)
        await self._bus.publish(RoomEvent(live.room_id, "status", status))

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


def _follow(session: LiveSession, status: Status) -> None:
    """Keep a gateway's copy of a session another gateway leads."""
    if session.session_id != status.session_id:
        session.audio_seconds = 0.0
    session.session_id, session.state, session.last_seq = status.session_id, status.session, status.last_seq


def _caption(record: CaptionRecord) -> Caption:
    return Caption(
        id=record.id,
        kind="final",
        text=record.text,
        start=record.start,
        end=record.end,
        session_id=record.session_id,
    )

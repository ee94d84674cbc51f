"""The Socket.IO side of the gateway: who may connect, what clients send, what they receive.

Every client event passes through ``trigger_event``: the client must be connected, the event known, within
its rate, its payload valid for the event's model, and presenter events only from the room's presenter.
Anything wrong becomes an ``error`` event with a code and affects only that client. Room events from the bus
(captions, status, lag, a session ended, a room deleted) are delivered to the Socket.IO room of the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import socketio
from pydantic import BaseModel, ValidationError

from captions.bus.events import RoomEvent, RoomEvents, SessionEnded
from captions.gateway.catchup import Catchup
from captions.gateway.corrections import apply_correction, corrected_ids, heard_text
from captions.gateway.frames import frame_seconds
from captions.gateway.guard import ClientError, Guard, first_error, parse
from captions.gateway.live import Client, LiveRoom, LiveRooms
from captions.gateway.sessions import Sessions
from captions.gateway.slots import AtCapacity, OverShare
from captions.gateway.vocabulary import RoomVocabulary
from captions.limits.base import Budget, Limiter, address_key, room_key
from captions.metrics import Metrics
from captions.protocol import (
    AudioFrame,
    Caption,
    ConnectAuth,
    Correction,
    ErrorCode,
    ErrorEvent,
    Status,
    TextCaption,
    VocabularyUpdate,
)
from captions.rooms.service import credential, key_matches, may_view, still_opens
from captions.settings import Settings
from captions.store.base import RoomRecord, Store
from captions.vocabulary.terms import clean_terms

log = logging.getLogger(__name__)
Handler = Callable[[Client, LiveRoom, Any], Awaitable[None]]


class CaptionsNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sessions: Sessions,
        events: RoomEvents,
        metrics: Metrics,
        limiter: Limiter,
        live_rooms: LiveRooms,
    ) -> None:
        super().__init__("/")
        self._live = live_rooms
        self._settings = settings
        self._limiter = limiter
        self._guard = Guard(settings, limiter, metrics, self._send_error, self.disconnect)
        self._store = store
        self._sessions = sessions
        self._events = events
        self._metrics = metrics
        self._clients: dict[str, Client] = {}
        self._connection_slots: dict[
            str, tuple[str, bool]
        ] = {}  # per Engine.IO connection: its address's, held?
        self._catchup = Catchup(store, self._emit_to, settings.catchup_finals)
        self._vocabulary_of_rooms = RoomVocabulary(store, sessions, self._emit_to)
        # Every client event: its payload model (None: no payload) and its handler. All are the presenter's.
        self._handlers: dict[str, tuple[type[BaseModel] | None, Handler]] = {
            "audio": (AudioFrame, self._audio),
            "start": (None, self._start),
            "pause": (None, self._pause),
            "stop": (None, self._stop),
            "text": (TextCaption, self._text),
            "correct": (Correction, self._correct),
            "vocabulary": (VocabularyUpdate, self._vocabulary),
        }

    @property
    def _rooms(self) -> dict[str, LiveRoom]:
        return self._sessions.rooms

    # --- the one guard of every client event -----------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid: str = args[0]
        data = args[1] if len(args) > 1 else None
        try:
            client = self._clients.get(sid)
            if client is None:
                raise ClientError("not_connected", "connect first")
            if not (event == "audio" and client.role == "presenter"):
                await self._guard.within_rate(client, event)
            found = self._handlers.get(event)
            if found is None:
                raise ClientError("unknown_event", f"there is no event {str(event)[:40]!r}")
            model, handler = found
            live = self._presenters_room(client)
            await handler(client, live, parse(model, data) if model else None)
            client.refusals = 0
        except AtCapacity:  # the server's state, not the client's doing: it does not count as a refusal
            message = "the server is transcribing as many talks as it can; try again shortly"
            await self._guard.refused(
                sid, self._clients.get(sid), ClientError("capacity", message), counts=False
            )
        except OverShare as over:
            share, organized = over.args
            whose = "your organizer account" if organized else "your address"
            message = f"{whose} has {share} talks transcribed here already; stop one first"
            await self._guard.refused(
                sid, self._clients.get(sid), ClientError("too_many_live_rooms", message), counts=False
            )
        except ClientError as error:
            await self._guard.refused(sid, self._clients.get(sid), error, error.counts)
        except Exception:
            log.exception("handling %s of %s", event[:40], sid)
            await self._send_error(sid, "internal_error", "the server could not handle that event")

    def _presenters_room(self, client: Client) -> LiveRoom:
        if client.role != "presenter":
            raise ClientError("forbidden", "only the presenter of a room may send this")
        live = self._rooms.get(client.room_id)
        if live is None or live.presenter_sid != client.sid:
            raise ClientError("forbidden", "this connection is no longer the room's presenter")
        return live

    # --- connection ----------------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        try:
            request = ConnectAuth.model_validate(auth or {})
        except ValidationError as error:
            _refuse(
                "bad_auth", f"connect with auth {{room, role, key?, token?, last_id?}}: {first_error(error)}"
            )
        # A room with clients here is known: a reconnect storm costs no store read per connection. (A deleted
        # room's clients are closed and its LiveRoom dropped, so the next connection reads the store again.)
        live = self._rooms.get(request.room)
        record = live.record if live is not None and live.record else await self._store.get_room(request.room)
        if record is None:
            _refuse("unknown_room", f"there is no room {request.room!r}")
        if request.role == "presenter" and not key_matches(record, request.key):
            _refuse("bad_key", "the presenter key of this room is wrong")
        if request.role == "viewer" and not may_view(record, request.token, request.key):
            _refuse("private_room", "this room is private: open it with its full viewer link")
        if not self._connection_slots.get(
            self.server.manager.eio_sid_from_sid(sid, self.namespace), ("", False)
        )[1]:
            _refuse("too_many_connections", "too many connections from your address")
        secret = credential(record, request.key, request.token)
        self._clients[sid] = Client(sid, request.room, request.role, address, secret)
        try:
            await self._join(sid, request.role, record, request.last_id)
        except BaseException:
            await self.on_disconnect(sid)
            raise
        if not self._still_connected(sid):
            # The client closed while it was being let in: python-socketio does not call on_disconnect for a
            # connection still connecting, so it is undone here (no phantom viewer stays).
            await self.on_disconnect(sid)
            _refuse("closed", "the connection closed while it was opened")

    async def _join(self, sid: str, role: str, record: RoomRecord, last_id: str | None) -> None:
        room_id = record.id
        live = self._live.enter(room_id, record.language)
        live.record = record
        # Before any await: from here the room counts this client. Presenters catch up too: a presenter whose
        # connection dropped must not miss its own captions.
        self._catchup.expect(live, sid)
        # Subscribed before the catch-up reads the store: no caption falls between the two.
        await self._live.subscribed(room_id)
        await self.enter_room(sid, room_id)
        # The shared session is read before this client counts: a welcome never goes out with a session that is
        # still being read for another client. A presenter here leads the session, so its viewers need no read
        # (a reconnect storm costs no store round trip per viewer), and a viewer's read never replaces it.
        if role == "presenter":
            live.session = await self._sessions.shared(room_id)
            replaced = live.presenter_sid
            live.presenter_sid = sid
            live.presenter_address = self._clients[sid].address
            if replaced and replaced != sid:
                self._sessions.spawn(self._replace_presenter(replaced))
            await self._sessions.presenter_came_or_went(live)
            self._sessions.slots.watch(live)  # a paused session's clock goes on
            self._sessions.spawn(self._vocabulary_of_rooms.tell(sid, room_id))
        else:
            if not live.leads:
                session = await self._sessions.shared(room_id)
                if not live.leads:
                    live.session = session
            live.viewers.add(sid)
            self._metrics.viewers.inc()
            await self._sessions.share_presence(live)
        self._sessions.spawn(self._welcome(sid, live, last_id))

    def _still_connected(self, sid: str) -> bool:
        eio_sid = self.server.manager.eio_sid_from_sid(sid, self.namespace)
        socket = self.server.eio.sockets.get(eio_sid) if eio_sid else None
        return socket is not None and not socket.closed and not socket.closing

    async def _welcome(self, sid: str, live: LiveRoom, last_id: str | None) -> None:
        status = await self._sessions.statuses.status(live.room_id, live.session)
        try:
            await self._catchup.welcome(sid, live, status, last_id)
        finally:
            if live.presenter_sid == sid:
                await self._sessions.statuses.broadcast(live)
            else:
                self._sessions.statuses.soon(live)

    async def connection_opened(self, eio_sid: str, environ: dict[str, Any]) -> None:
        """Every connection holds a slot of its address's cap from its opening, in a room or not yet."""
        slots = address_key("connections", client_address(environ))
        held = await self._limiter.hold(slots, eio_sid, self._settings.max_connections_per_address)
        self._connection_slots[eio_sid] = (slots, held)

    async def connection_gone(self, eio_sid: str) -> None:
        slots, held = self._connection_slots.pop(eio_sid, ("", False))
        if held:
            await self._limiter.release(slots, eio_sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        client = self._clients.pop(sid, None)
        if client is None:
            return
        live = self._rooms.get(client.room_id)
        if live is None:
            return
        live.catching_up.pop(sid, None)
        if live.presenter_sid == sid:
            live.presenter_sid = None
            await self._sessions.presenter_came_or_went(live)
            await self._sessions.statuses.broadcast(live)
            self._sessions.slots.watch(live)
        elif sid in live.viewers:
            live.viewers.discard(sid)
            self._metrics.viewers.dec()
            await self._sessions.share_presence(live)
            self._sessions.statuses.soon(live)
        self._live.leave_if_empty(live)

    async def _replace_presenter(self, sid: str) -> None:
        await self._send_error(sid, "presenter_replaced", "the presenter key was used on another connection")
        await self.disconnect(sid)

    # --- presenter events ----------------------------------------------------------------------------

    async def _audio(self, client: Client, live: LiveRoom, frame: AudioFrame) -> None:
        settings = self._settings
        seconds = frame_seconds(settings, live, frame)
        budget = Budget(
            room_key("audio", client.room_id), settings.audio_rate, settings.audio_burst_s, seconds
        )
        if await self._sessions.frame(live, frame.seq, frame.pcm, budget):
            raise ClientError("rate_limited", "audio is arriving faster than real time; slow down")

    async def _start(self, client: Client, live: LiveRoom, _: None) -> None:
        await self._sessions.begin(live)

    async def _pause(self, client: Client, live: LiveRoom, _: None) -> None:
        await self._sessions.pause(live)

    async def _stop(self, client: Client, live: LiveRoom, _: None) -> None:
        await self._sessions.stop(live)

    async def _text(self, client: Client, live: LiveRoom, caption: TextCaption) -> None:
        await self._sessions.text(live, caption.text, caption.kind == "final")

    async def _correct(self, client: Client, live: LiveRoom, correction: Correction) -> None:
        # One event per final it replaces (the guard took the first): each is a store write and a broadcast.
        if extra := len(corrected_ids(correction)) - 1:
            await self._guard.within_rate(client, "correct", extra)
        heard = await heard_text(self._store, correction)
        await apply_correction(self._store, self._events, client.room_id, correction)
        await self._vocabulary_of_rooms.learn(client.sid, live, heard, correction.text)

    async def _vocabulary(self, client: Client, live: LiveRoom, update: VocabularyUpdate) -> None:
        await self._vocabulary_of_rooms.replace(client.sid, live, clean_terms(update.terms))

    # --- room events to clients ------------------------------------------------------------------------

    async def deliver(self) -> None:
        """Deliver every room event of the bus to the clients of this gateway in that room."""
        async for event in self._events.events():
            try:
                await self._deliver(event)
            except Exception:  # one room's trouble must not stop delivery to every other room
                log.exception("delivering %s to room %s", event.name, event.room_id)

    async def _deliver(self, event: RoomEvent) -> None:
        if isinstance(event.payload, SessionEnded):
            ended = await self._sessions.ended(event.room_id, event.payload.session_id)
            if ended is not None:
                status = await self._sessions.statuses.status(ended.room_id, ended.session)
                await self.emit("status", status.model_dump(), room=ended.room_id)
            return
        live = self._rooms.get(event.room_id)
        if live is None:
            return
        if event.name == "deleted":
            await self._close_room(live)
            return
        if event.name == "rotated":
            await self._rotated(live)
            return
        if event.name in ("recognizer", "destinations"):  # the presenter's business only
            if live.presenter_sid:
                await self._emit_to(event.name, event.payload.model_dump(), live.presenter_sid)
            return
        payload = event.payload
        skip: list[str] = []
        if isinstance(payload, Caption):
            self._sessions.counted(live, payload)
        if isinstance(payload, Caption) and live.catching_up:
            for waiting in live.catching_up.values():
                waiting.append(payload)
            skip = list(live.catching_up)
        elif isinstance(payload, Status):
            payload = self._sessions.statuses.never_reopened(live, payload)
            live.viewers_in_room = payload.viewers
            if not live.leads:
                _follow(live, payload)
        await self.emit(event.name, payload.model_dump(), room=event.room_id, skip_sid=skip or None)

    async def _close_room(self, live: LiveRoom) -> None:
        """The room was deleted: everyone in it here is told and disconnected."""
        self._live.drop(live.room_id)
        for sid in [live.presenter_sid, *live.viewers]:
            if sid:
                await self._send_error(sid, "room_deleted", "this room was deleted")
                await self.disconnect(sid)

    async def _rotated(self, live: LiveRoom) -> None:
        """The room's key or viewer token was replaced: whoever came in with an old one here goes."""
        record = await self._store.get_room(live.room_id)
        if record is None:
            return
        live.record = record
        for sid in [live.presenter_sid, *live.viewers]:
            client = self._clients.get(sid) if sid else None
            if client is not None and not still_opens(record, client.credential, client.role == "presenter"):
                what = "presenter key" if client.role == "presenter" else "viewer link"
                await self._send_error(client.sid, "credentials_rotated", f"this room's {what} was replaced")
                await self.disconnect(client.sid)

    # --- helpers -------------------------------------------------------------------------------------

    async def _emit_to(self, event: str, data: dict[str, Any], sid: str) -> None:
        await self.emit(event, data, to=sid)

    async def _send_error(
        self, sid: str, code: ErrorCode, message: str, resume_seq: int | None = None
    ) -> None:
        event = ErrorEvent(code=code, message=message, resume_seq=resume_seq)
        await self.emit("error", event.model_dump(exclude_none=True), to=sid)


def client_address(environ: dict[str, Any]) -> str:
    """The client's address as the ASGI server (and ``ClientAddress``, behind trusted proxies) saw it."""
    client = environ.get("asgi.scope", {}).get("client")
    return str(client[0]) if client else "unknown"


def _refuse(code: ErrorCode, message: str) -> NoReturn:
    raise socketio.exceptions.ConnectionRefusedError(message, {"code": code})


def _follow(live: LiveRoom, status: Status) -> None:
    """Keep a gateway's copy of a session another gateway leads."""
    session = live.session
    if session.session_id != status.session_id:
        session.audio_seconds = 0.0
    session.session_id, session.state, session.last_seq = status.session_id, status.session, status.last_seq
    session.audio_seconds = status.audio_seconds

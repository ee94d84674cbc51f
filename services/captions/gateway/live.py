"""What a gateway knows about the rooms its clients are in: the shared session, its own presenter and viewers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from captions.bus.events import RoomEvents
from captions.protocol import Caption, Role
from captions.roomstate.base import LiveSession
from captions.store.base import RoomRecord

log = logging.getLogger(__name__)


@dataclass
class Client:
    sid: str
    room_id: str
    role: Role
    address: str
    credential: str = ""  # the hash of the key or token it came in with (rooms.service.credential)
    # Refusals since this client's last accepted event: a client that keeps sending what is refused is
    # disconnected. Each kind of refusal is logged once per client.
    refusals: int = 0
    logged: set[str] = field(default_factory=set)


@dataclass
class LiveRoom:
    room_id: str
    language: str
    # This gateway's copy of the shared session: the truth while the presenter is connected here, else kept
    # fresh by the room's status events.
    session: LiveSession = field(default_factory=LiveSession)
    presenter_sid: str | None = None
    viewers: set[str] = field(default_factory=set)
    # Clients being sent their catch-up: live captions wait here so each arrives once, in order.
    catching_up: dict[str, list[Caption]] = field(default_factory=dict)
    status_scheduled: bool = False  # this gateway is waiting to tell the room a status, or for another to
    status_wanted: bool = False  # viewers came or went here since
    viewers_in_room: int = 0  # on every gateway, as the last status said
    session_saved_at: float = 0.0  # monotonic time the session's progress was last saved during audio
    # One frame at a time goes to the room's input, in order, whatever waits on the bus; after a frame the bus
    # could not take, none is taken but that one (``resend_from``) until the presenter sends it again.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    resend_from: int | None = None
    resend_asked_at: float = 0.0  # monotonic
    progress_unsaved: bool = False  # the last save of it failed (logged once until one succeeds)
    refused_until: float = 0.0  # monotonic time until which a new session is refused (no transcriber free)
    short_frame_sent: bool = (
        False  # the stretch of audio under way ended with a short frame: no more until a pause
    )
    record: RoomRecord | None = None  # the stored room, read by the first client's connection
    presenter_address: str = ""  # of its presenter's last connection here: whose share its slot is
    slot_watch: asyncio.TimerHandle | None = None  # when to look whether it should give its slot back
    finals: int = 0  # finals of its session so far, as their captions came by (the session's quota)
    audio_credit: float = 0.0  # seconds of audio already taken from its owner's daily quota, not yet sent
    last_audio_at: float | None = None  # monotonic time of the presenter's last frame here (``stalls.py``)
    audio_stalled: bool = False  # its audio stopped mid-talk: its audience is told it is away

    @property
    def leads(self) -> bool:
        """The presenter is connected here: this gateway's copy of the session is the one that counts."""
        return self.presenter_sid is not None

    @property
    def empty(self) -> bool:
        """Nobody here: no presenter, no viewer, and nobody still joining (a client being let in is in
        ``catching_up`` from its first moment, so the room cannot be dropped under it)."""
        return self.presenter_sid is None and not self.viewers and not self.catching_up


class LiveRooms:
    """The rooms this gateway serves: one per room with a client here, and this gateway's subscription to the
    room's events, taken when its first client arrives and given back ``grace_s`` after its last one left (a
    client that reconnects at once costs no resubscription). Events of other rooms never reach this gateway."""

    def __init__(self, events: RoomEvents, grace_s: float) -> None:
        self.rooms: dict[str, LiveRoom] = {}
        self._events = events
        self._grace_s = grace_s
        self._subscriptions: dict[str, asyncio.Task[None]] = {}
        self._leaving: dict[str, asyncio.Task[None]] = {}

    def get(self, room_id: str) -> LiveRoom | None:
        return self.rooms.get(room_id)

    def enter(self, room_id: str, language: str) -> LiveRoom:
        """The room, served from now on (no await: the caller counts its client in it before anything else)."""
        live = self.rooms.setdefault(room_id, LiveRoom(room_id, language))
        leaving = self._leaving.pop(room_id, None)
        if leaving is not None:
            leaving.cancel()
        if room_id not in self._subscriptions:
            self._subscriptions[room_id] = asyncio.ensure_future(self._events.subscribe(room_id))
        return live

    async def subscribed(self, room_id: str) -> None:
        """Until every event of the room published from now on reaches this gateway."""
        subscription = self._subscriptions.get(room_id)
        if subscription is None:
            return
        try:
            await asyncio.shield(subscription)
        except Exception:
            if self._subscriptions.get(room_id) is subscription:
                del self._subscriptions[room_id]  # the next client tries again
            raise

    def leave_if_empty(self, live: LiveRoom) -> None:
        if live.empty and self.rooms.get(live.room_id) is live:
            self.drop(live.room_id)

    def drop(self, room_id: str) -> None:
        """Nobody is served in the room here any more."""
        self.rooms.pop(room_id, None)
        if room_id in self._subscriptions and room_id not in self._leaving:
            self._leaving[room_id] = asyncio.ensure_future(self._unsubscribe_later(room_id))

    async def _unsubscribe_later(self, room_id: str) -> None:
        await asyncio.sleep(self._grace_s)
        if room_id in self.rooms:
            return
        del self._leaving[room_id]
        subscription = self._subscriptions.pop(room_id, None)
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription
        try:
            await self._events.unsubscribe(room_id)
        except Exception:
            log.exception("unsubscribing from room %s", room_id)

    async def close(self) -> None:
        for task in [*self._leaving.values(), *self._subscriptions.values()]:
            task.cancel()
        await asyncio.gather(*self._leaving.values(), *self._subscriptions.values(), return_exceptions=True)

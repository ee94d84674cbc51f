"""Transcription slots, shared fairly. A session takes one when it starts or goes on, within its presenter's
share (``max_live_rooms_per_client`` per address; an IPv6 client is its /64), and gives it back when it stops,
or once it has been paused for ``paused_release_s`` or without its presenter for ``absent_release_s``: a paused
talk or a closed tab cannot keep a slot a real talk needs. A session that gave its slot back is ``parked``: the
same session, everything heard stored; it takes a slot again when its presenter goes on.

The gateway where the presenter was last watches for that moment (a timer, no sweep); one that dies meanwhile
leaves the session to the presenter timeout, which ends it."""

from __future__ import annotations

import asyncio
import logging
import time

from captions.bus.inputs import RoomInput, RoomInputs
from captions.gateway.live import LiveRoom
from captions.limits.base import Limiter, address_key, organizer_key
from captions.roomstate.base import LiveSession, RoomState
from captions.settings import Settings

log = logging.getLogger(__name__)


class AtCapacity(Exception):
    """Every transcriber has as many rooms as it may take: the session cannot start now."""


class OverShare(Exception):
    """The room's owner (its organizer, or its presenter's address) already has its share of the slots."""


class Slots:
    def __init__(self, settings: Settings, state: RoomState, inputs: RoomInputs, limiter: Limiter) -> None:
        self._settings = settings
        self._state = state
        self._inputs = inputs
        self._limiter = limiter
        self._looks: set[asyncio.Task[None]] = set()

    @property
    def share(self) -> int:
        """Slots one client (an address) may hold at once: by default half of a transcriber's (one at least)."""
        settings = self._settings
        if settings.max_live_rooms_per_client:
            return settings.max_live_rooms_per_client
        return max(1, settings.max_rooms // 2) if settings.max_rooms else 1_000_000

    async def take(self, live: LiveRoom) -> str:
        """A slot for the room's session, counted against its presenter's share (the key of which is returned).
        A refused room is not asked about again for ``admission_wait_s``: a presenter's every frame must not
        wait for a transcriber."""
        if time.monotonic() < live.refused_until:
            raise AtCapacity
        organizer = live.record.organizer if live.record is not None else ""
        if organizer:
            key = organizer_key("live_rooms", organizer)
            share = self._settings.organizer_live_rooms or self.share
        else:
            key, share = address_key("live_rooms", live.presenter_address), self.share
        if not await self._limiter.hold(key, live.room_id, share):
            raise OverShare(share, bool(organizer))
        if not await self._inputs.admit(live.room_id):
            await self._limiter.release_anywhere(key, live.room_id)
            live.refused_until = time.monotonic() + self._settings.admission_wait_s
            log.warning("room %s: no transcriber has room for it (max_rooms reached)", live.room_id)
            raise AtCapacity
        return key

    async def give_back(self, room_id: str, session: LiveSession) -> None:
        """Frees the presenter's share; the transcriber's slot goes with the session's stop or ``park``."""
        if session.held_by:
            await self._limiter.release_anywhere(session.held_by, room_id)
            session.held_by = ""

    def idle_for(self, session: LiveSession, presenter_here: bool, moment: float) -> float:
        """Seconds until the session gives its slot back if nothing changes (0: now); -1: it keeps it."""
        if session.parked or session.state not in ("live", "paused"):
            return -1.0
        deadlines = []
        if session.state == "paused":
            deadlines.append(session.paused_at + self._settings.paused_release_s)
        if not presenter_here:
            deadlines.append(session.last_activity + self._settings.absent_release_s)
        return max(0.0, min(deadlines) - moment) if deadlines else -1.0

    def watch(self, live: LiveRoom, session: LiveSession | None = None) -> None:
        """Looks again when the session would give its slot back (after a pause, the presenter leaving)."""
        if live.slot_watch is not None:
            live.slot_watch.cancel()
            live.slot_watch = None
        wait = self.idle_for(session or live.session, live.leads, time.time())
        if wait >= 0:
            live.slot_watch = asyncio.get_running_loop().call_later(wait, self._look_soon, live)

    def _look_soon(self, live: LiveRoom) -> None:
        live.slot_watch = None
        task = asyncio.ensure_future(self._look(live))
        self._looks.add(task)
        task.add_done_callback(self._looks.discard)

    async def _look(self, live: LiveRoom) -> None:
        if live.leads:
            session = live.session
        elif (await self._state.presence(live.room_id)).presenter_connected:
            return  # on another gateway now, which watches it
        else:
            session = await self._state.session(live.room_id)
        wait = self.idle_for(session, live.leads, time.time())
        if wait > 0:
            self.watch(live, session)
        elif wait == 0:
            await self._park(live.room_id, session)

    async def _park(self, room_id: str, session: LiveSession) -> None:
        assert session.session_id is not None
        log.info("room %s: session %s %s: it gives its transcription slot back", room_id, session.session_id,
                 "paused" if session.state == "paused" else "without presenter")  # fmt: skip
        session.parked = True
        await self.give_back(room_id, session)
        await self._state.save_session(room_id, session)
        await self._inputs.send_input(
            RoomInput(room_id, session.session_id, "park", at=session.audio_seconds)
        )

    async def close(self) -> None:
        for task in list(self._looks):
            task.cancel()
        await asyncio.gather(*self._looks, return_exceptions=True)

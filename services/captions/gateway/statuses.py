"""What the room is told of its session and audience: the ``status`` event, computed from the shared session
and presence, sent through the bus so the room's clients on every gateway see it, and, for viewer counts,
sent by one gateway at a time at a bounded rate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from captions.bus.events import RoomEvent, RoomEvents
from captions.gateway.live import LiveRoom
from captions.protocol import Status
from captions.roomstate.base import LiveSession, RoomState
from captions.settings import Settings

VIEWERS_PER_STATUS_SECOND = 250
MAX_STATUS_DELAY_S = 30.0


class RoomStatuses:
    def __init__(
        self,
        settings: Settings,
        state: RoomState,
        events: RoomEvents,
        rooms: dict[str, LiveRoom],
        spawn: Callable[[Awaitable[Any]], None],
    ) -> None:
        self._settings = settings
        self._state = state
        self._events = events
        self._rooms = rooms
        self._spawn = spawn

    async def room_status(self, room_id: str) -> Status:
        live = self._rooms.get(room_id)
        if live is None or not live.leads:
            return await self.status(room_id, await self._state.session(room_id))
        return await self.status(room_id, live.session)

    async def status(self, room_id: str, session: LiveSession) -> Status:
        presence = await self._state.presence(room_id)
        return Status(
            room=room_id,
            session=session.state,
            session_id=session.session_id,
            presenter_connected=presence.presenter_connected,
            viewers=presence.viewers,
            last_seq=session.last_seq,
            resume_seq=session.last_seq + 1 if session.open else 0,
            audio_seconds=round(session.audio_seconds, 3),
        )

    async def broadcast(self, live: LiveRoom) -> None:
        """Through the bus: the room's clients on every gateway see it."""
        status = await self.status(live.room_id, live.session)
        await self._events.publish(RoomEvent(live.room_id, "status", status))

    @staticmethod
    def never_reopened(live: LiveRoom, status: Status) -> Status:
        """A status computed while the session was stopping can arrive after the transcriber ended it (the end
        is told directly, statuses travel the bus): an ended session is never shown as open again."""
        session = live.session
        if session.state == "ended" and session.session_id == status.session_id and status.session != "ended":
            return status.model_copy(update={"session": "ended", "resume_seq": 0})
        return status

    def soon(self, live: LiveRoom) -> None:
        """Viewer counts change with every join; the room is told at once, then at most every
        ``status_interval_s`` by one gateway, whichever gateways its viewers are on, and a big room less often
        (one second more per ``VIEWERS_PER_STATUS_SECOND`` viewers, up to ``MAX_STATUS_DELAY_S``): in a room of
        thousands, joins and leaves never stop, and a count sent to everyone each second would cost as much as
        the captions."""
        live.status_wanted = True
        if not live.status_scheduled:
            live.status_scheduled = True
            self._spawn(self._statuses(live))

    async def _statuses(self, live: LiveRoom) -> None:
        """Until a status that counts this gateway's share has gone out: this gateway's share is in the room's
        presence before it asks for the turn, so any status sent after it won the turn counts it."""
        try:
            while live.status_wanted:
                viewers = max(len(live.viewers), live.viewers_in_room)
                delay = min(MAX_STATUS_DELAY_S, max(self._settings.status_interval_s,
                                                    viewers / VIEWERS_PER_STATUS_SECOND))  # fmt: skip
                if wait := await self._state.claim_status(live.room_id):
                    # A turn being used ends at its sending, long before it would expire: look again soon.
                    await asyncio.sleep(min(wait, delay))
                    continue
                live.status_wanted = False
                await self.broadcast(live)
                await self._state.status_sent(live.room_id, delay)
        finally:
            live.status_scheduled = False

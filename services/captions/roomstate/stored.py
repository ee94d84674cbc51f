"""Room state of the one-process mode: sessions in the store, so a restarted server continues them; presence in
memory (there is one gateway, and its connections end with it)."""

from __future__ import annotations

import time

from captions.roomstate.base import RECHECK_S, STATUS_TURN_S, LiveSession, Presence
from captions.store.base import Store

_SlotFields = tuple[str, float, bool, str]  # session id, paused_at, parked, held_by


class StoredRoomState:
    def __init__(self, store: Store, presenter_timeout_s: float) -> None:
        self._store = store
        self._timeout = presenter_timeout_s
        self._presence: dict[str, Presence] = {}
        self._look_at: dict[str, float] = {}  # open sessions' rooms: when to look at them next (wall clock)
        self._status_until: dict[str, float] = {}  # rooms whose next status is on its way: until when
        # What the store's sessions table does not keep, of open sessions (a restart re-admits them all).
        self._slot_fields: dict[str, _SlotFields] = {}

    async def session(self, room_id: str) -> LiveSession:
        record = await self._store.latest_session(room_id)
        if record is None:
            return LiveSession()
        session_id, paused_at, parked, held_by = self._slot_fields.get(room_id, ("", 0.0, False, ""))
        if session_id != record.id:
            paused_at, parked, held_by = 0.0, False, ""
        return LiveSession(
            session_id=record.id,
            state=record.state,
            last_seq=record.last_seq,
            audio_seconds=record.audio_seconds,
            last_activity=record.last_activity,
            started_at=record.started_at.timestamp(),
            paused_at=paused_at,
            parked=parked,
            held_by=held_by,
        )

    async def save_session(self, room_id: str, session: LiveSession) -> None:
        if session.session_id is None:
            return
        if session.open:
            self._slot_fields[room_id] = (
                session.session_id,
                session.paused_at,
                session.parked,
                session.held_by,
            )
        else:
            self._slot_fields.pop(room_id, None)
        await self._store.update_session(
            session.session_id,
            state=session.state,
            last_seq=session.last_seq,
            audio_seconds=session.audio_seconds,
            last_activity=session.last_activity,
        )

    async def end_session(self, room_id: str, session_id: str) -> bool:
        # The transcriber ended it in the store when it stored the last final.
        latest = await self._store.latest_session(room_id)
        return latest is not None and latest.id == session_id and latest.state == "ended"

    async def due_rooms(self, limit: int) -> list[str]:
        """One process: the store's open sessions, each first due ``presenter_timeout_s`` after its last
        activity."""
        moment = time.time()
        first = {
            record.room_id: record.last_activity + self._timeout
            for record in await self._store.open_sessions()
        }
        self._look_at = {room: self._look_at.get(room, at) for room, at in first.items()}
        due = sorted(room for room, at in self._look_at.items() if at <= moment)[:limit]
        for room in due:
            self._look_at[room] = moment + RECHECK_S
        return due

    async def recheck(self, room_id: str, at: float) -> None:
        self._look_at[room_id] = at

    async def claim_status(self, room_id: str) -> float:
        moment = time.monotonic()
        if (until := self._status_until.get(room_id, 0.0)) > moment:
            return until - moment
        self._status_until = {room: at for room, at in self._status_until.items() if at > moment}
        self._status_until[room_id] = moment + STATUS_TURN_S
        return 0.0

    async def status_sent(self, room_id: str, hold_s: float) -> None:
        self._status_until[room_id] = time.monotonic() + hold_s

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        if presenter or viewers:
            # A room new here is looked up once: one deleted meanwhile (a client in flight) is not counted again.
            if room_id not in self._presence and await self._store.get_room(room_id) is None:
                return
            self._presence[room_id] = Presence(presenter, viewers)
        else:
            self._presence.pop(room_id, None)

    async def presence(self, room_id: str) -> Presence:
        return self._presence.get(room_id, Presence(False, 0))

    async def forget(self, room_id: str) -> None:
        self._slot_fields.pop(room_id, None)
        self._presence.pop(room_id, None)
        self._look_at.pop(room_id, None)  # the store dropped the sessions with the room

    async def heartbeat(self) -> None:
        return None

    async def close(self) -> None:
        return None

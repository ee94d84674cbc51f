"""Room state of the one-process mode: sessions in the store, so a restarted server continues them; presence in
memory (there is one gateway, and its connections end with it)."""

from __future__ import annotations

from captions.roomstate.base import LiveSession, Presence
from captions.store.base import Store


class StoredRoomState:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._presence: dict[str, Presence] = {}

    async def session(self, room_id: str) -> LiveSession:
        record = await self._store.latest_session(room_id)
        if record is None:
            return LiveSession()
        return LiveSession(
            session_id=record.id,
            state=record.state,
            last_seq=record.last_seq,
            audio_seconds=record.audio_seconds,
            last_activity=record.last_activity,
            started_at=record.started_at.timestamp(),
        )

    async def save_session(self, room_id: str, session: LiveSession) -> None:
        if session.session_id is None:
            return
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

    async def open_rooms(self) -> list[str]:
        return list(dict.fromkeys(record.room_id for record in await self._store.open_sessions()))

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        if presenter or viewers:
            self._presence[room_id] = Presence(presenter, viewers)
        else:
            self._presence.pop(room_id, None)

    async def presence(self, room_id: str) -> Presence:
        return self._presence.get(room_id, Presence(False, 0))

    async def forget(self, room_id: str) -> None:
        self._presence.pop(room_id, None)  # the store dropped the sessions with the room

    async def heartbeat(self) -> None:
        return None

    async def close(self) -> None:
        return None

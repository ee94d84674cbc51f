"""Room state of the one-process mode: one gateway, so a dict is the truth."""

from __future__ import annotations

import dataclasses

from captions.roomstate.base import LiveSession, Presence


class MemoryRoomState:
    def __init__(self) -> None:
        self._sessions: dict[str, LiveSession] = {}
        self._presence: dict[str, Presence] = {}

    async def session(self, room_id: str) -> LiveSession:
        return dataclasses.replace(self._sessions.get(room_id) or LiveSession())

    async def save_session(self, room_id: str, session: LiveSession) -> None:
        self._sessions[room_id] = dataclasses.replace(session)

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        self._presence[room_id] = Presence(presenter, viewers)

    async def presence(self, room_id: str) -> Presence:
        return self._presence.get(room_id, Presence(False, 0))

    async def forget(self, room_id: str) -> None:
        self._sessions.pop(room_id, None)
        self._presence.pop(room_id, None)

    async def heartbeat(self) -> None:
        return None

    async def close(self) -> None:
        return None

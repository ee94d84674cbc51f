"""How much input each room has that its transcriber has not settled yet, in one process (the one-process
bus; on Redis the count is kept beside the room's stream, ``redis_inputs.py``).

Input leaves the backlog the way a transcriber lets go of it: audio once settled (transcribed, its finals
stored), anything else once handled, everything of a session once it is finished.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field, replace

from captions.bus.inputs import RoomInput


@dataclass(frozen=True)
class _Entry:  # what is counted of an input, not the input: its audio is not held here
    number: int
    session_id: str
    end: float
    size: int
    audio: bool


@dataclass
class _Room:
    entries: deque[_Entry] = field(default_factory=deque)
    bytes: int = 0


class Backlogs:
    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._rooms: dict[str, _Room] = {}
        self._numbers = itertools.count(1)

    def full(self, message: RoomInput) -> bool:
        room = self._rooms.get(message.room_id)
        return bool(self._limit) and room is not None and room.bytes + message.size > self._limit

    def add(self, message: RoomInput) -> RoomInput:
        """``message``, numbered (its ``entry_id``) so that ``handled`` knows how far it has come."""
        entry = _Entry(
            next(self._numbers), message.session_id, message.end, message.size, message.kind == "audio"
        )
        room = self._rooms.setdefault(message.room_id, _Room())
        room.entries.append(entry)
        room.bytes += entry.size
        return replace(message, entry_id=str(entry.number))

    def settled(self, room_id: str, session_id: str, seconds: float) -> None:
        room = self._rooms.get(room_id)
        while (
            room
            and room.entries
            and (room.entries[0].session_id != session_id or room.entries[0].end <= seconds + 1e-6)
        ):
            self._pop(room_id, room)

    def handled(self, message: RoomInput) -> None:
        room = self._rooms.get(message.room_id)
        through = int(message.entry_id or 0)
        while room and room.entries and not room.entries[0].audio and room.entries[0].number <= through:
            self._pop(message.room_id, room)

    def forget(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    def _pop(self, room_id: str, room: _Room) -> None:
        room.bytes -= room.entries.popleft().size
        if not room.entries:
            del self._rooms[room_id]

"""What the product keeps: rooms, their sessions, and the final captions of each session (with corrections)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RoomRecord:
    id: str
    title: str
    language: str
    key_hash: str
    created_at: datetime
    embed_origins: tuple[str, ...] = ()  # sites allowed to embed the captions widget; empty = any


@dataclass(frozen=True)
class SessionRecord:
    id: str
    room_id: str
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class CaptionRecord:
    """A final caption. ``seq`` orders the captions of a room across sessions (catch-up asks for seq > n)."""

    id: str
    room_id: str
    session_id: str
    seq: int
    text: str
    start: float
    end: float
    corrected: bool = False


class Store(Protocol):
    """Every implementation passes tests/contract/test_store.py."""

    async def create_room(self, room: RoomRecord) -> None: ...

    async def get_room(self, room_id: str) -> RoomRecord | None: ...

    async def set_embed_origins(self, room_id: str, origins: tuple[str, ...]) -> None: ...

    async def delete_room(self, room_id: str) -> bool:
        """Removes the room with its sessions and captions; False if there was no such room."""
        ...

    async def start_session(self, session: SessionRecord) -> None: ...

    async def end_session(self, session_id: str, ended_at: datetime) -> None: ...

    async def sessions(self, room_id: str) -> list[SessionRecord]:
        """Oldest first."""
        ...

    async def append_final(self, caption: CaptionRecord) -> None:
        """Idempotent: a caption id already stored is left as it is."""
        ...

    async def correct(self, room_id: str, caption_id: str, text: str) -> CaptionRecord | None:
        """Replace a final's text; None when the room has no such caption."""
        ...

    async def captions(self, session_id: str, after_seq: int = -1) -> list[CaptionRecord]:
        """The session's finals with ``seq`` > ``after_seq``, in order."""
        ...

    async def close(self) -> None: ...

"""Where a room's finals go besides the store and the room's clients (captions sent on to Zoom, YouTube, OBS
and webhooks): told by the transcriber that owns the room, so one process at a time sends each room's talk.
A sink never raises into the transcriber: its trouble is its own."""

from __future__ import annotations

from typing import Protocol

from captions.store.base import CaptionRecord


class CaptionSink(Protocol):
    async def opened(self, room_id: str, session_id: str, stored_finals: int) -> None:
        """This transcriber has the session now (new, resumed, or taken over), with ``stored_finals`` finals
        stored before: whatever of them was not sent on yet goes first."""
        ...

    def final(self, room_id: str, caption: CaptionRecord, behind_s: float) -> None:
        """A final was stored; its last word was spoken ``behind_s`` seconds ago."""
        ...

    async def ended(self, room_id: str, session_id: str) -> None:
        """The session stopped (or gave its slot back): its last words go as they are."""
        ...

    async def released(self, room_id: str) -> None:
        """Another transcriber has the room (or it was deleted): stop at once, say nothing more."""
        ...

    async def changed(self, room_id: str, session_id: str, stored_finals: int) -> None:
        """The room's list of destinations was saved again; a new one starts after the ``stored_finals``."""
        ...

    async def close(self) -> None: ...


class NoSink:
    async def opened(self, room_id: str, session_id: str, stored_finals: int) -> None:
        return None

    def final(self, room_id: str, caption: CaptionRecord, behind_s: float) -> None:
        return None

    async def ended(self, room_id: str, session_id: str) -> None:
        return None

    async def released(self, room_id: str) -> None:
        return None

    async def changed(self, room_id: str, session_id: str, stored_finals: int) -> None:
        return None

    async def close(self) -> None:
        return None

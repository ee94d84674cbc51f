"""How audio reaches the transcriber and captions reach every gateway.

Gateways send a room's input (audio frames, browser-recognised text, session control) to whichever
transcriber owns the room; transcribers publish room events (captions, lag) and gateways publish status, and
every gateway delivers each event to its own clients in that room. In one process both ends are in memory; in
the scale-out deployment Redis carries them (``redis.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel

from captions.protocol import Caption, Lag, Status

# ``release``: this transcriber lost the room (its lease went to another): drop it without a word more.
InputKind = Literal["start", "audio", "text", "pause", "stop", "release"]


@dataclass(frozen=True)
class RoomInput:
    """One thing a presenter did: ``audio`` carries PCM16 bytes, ``text`` a caption. A transcriber that takes a
    room over mid-session starts from whatever input comes first, at its ``at``."""

    room_id: str
    session_id: str
    kind: InputKind
    seq: int = -1
    pcm: bytes = b""
    text: str = ""
    final: bool = False
    language: str = "en"
    at: float = 0.0  # session time: seconds of audio the session had before this input
    entry_id: str = ""  # where the bus keeps it, for ``handled``


RoomEventName = Literal["caption", "status", "lag"]
ROOM_EVENT_MODELS: dict[RoomEventName, type[BaseModel]] = {"caption": Caption, "status": Status, "lag": Lag}


@dataclass(frozen=True)
class RoomEvent:
    """Something every client in a room receives as the Socket.IO event ``name``."""

    room_id: str
    name: RoomEventName
    payload: BaseModel

    @classmethod
    def caption(cls, room_id: str, caption: Caption) -> RoomEvent:
        return cls(room_id, "caption", caption)


class Bus(Protocol):
    """Every implementation passes tests/contract/test_bus.py."""

    async def send_input(self, message: RoomInput) -> None: ...

    def inputs(self) -> AsyncIterator[RoomInput]:
        """Room inputs for this transcriber: every room it owns, each room's in the order they were sent."""
        ...

    async def settled(self, room_id: str, session_id: str, seconds: float) -> None:
        """The room's audio before ``seconds`` (session time) is transcribed and its finals are stored: a
        transcriber taking the room over resumes from there."""
        ...

    async def handled(self, message: RoomInput) -> None:
        """A text input is captioned and stored (audio settles by time instead)."""
        ...

    async def finished(self, room_id: str, session_id: str) -> None:
        """The session ended and everything in it is stored: its input can go."""
        ...

    async def publish(self, event: RoomEvent) -> None: ...

    def events(self) -> AsyncIterator[RoomEvent]:
        """Every event of every room, for one gateway."""
        ...

    async def close(self) -> None: ...

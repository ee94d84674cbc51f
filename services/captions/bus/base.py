"""How audio reaches the transcriber and captions reach every gateway.

Gateways send a room's input (audio frames, browser-recognised text, session control) to whichever
transcriber owns the room; transcribers publish captions that every gateway delivers to its own clients.
In one process both ends are in memory; in the scale-out deployment Redis carries them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

from captions.protocol import Caption

InputKind = Literal["start", "audio", "text", "pause", "stop"]


@dataclass(frozen=True)
class RoomInput:
    """One thing a presenter did. ``start`` carries the language; ``audio`` PCM16 bytes; ``text`` a caption."""

    room_id: str
    session_id: str
    kind: InputKind
    seq: int = -1
    pcm: bytes = b""
    text: str = ""
    final: bool = False
    language: str = "en"


@dataclass(frozen=True)
class CaptionMessage:
    room_id: str
    caption: Caption


class Bus(Protocol):
    async def send_input(self, message: RoomInput) -> None: ...

    def inputs(self) -> AsyncIterator[RoomInput]:
        """Room inputs for this transcriber, in the order each room sent them."""
        ...

    async def publish_caption(self, message: CaptionMessage) -> None: ...

    def captions(self) -> AsyncIterator[CaptionMessage]:
        """Every caption of every room, for one gateway."""
        ...

    async def close(self) -> None: ...

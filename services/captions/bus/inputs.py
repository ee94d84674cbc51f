"""Room input: what a room's presenter did, on its way from a gateway to the one transcriber that owns the room.

Audio frames, browser-recognised text and session control, each room's in the order sent. A transcriber
acknowledges input once it is settled (transcribed and stored), so a transcriber taking a room over starts from
the first unsettled input. In one process the input lives in memory; in the scale-out deployment in Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

from captions.limits.base import Budget
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE

# ``delete``: the room was deleted: drop it and everything of it. ``release``: this transcriber lost the room
# (its lease went to another): drop it without a word more (made by the bus itself, never sent).
# ``vocabulary``: the room's terms changed (``text``: one per line). ``destinations``: its list was saved again.
InputKind = Literal[
    "start", "audio", "text", "pause", "stop", "delete", "release", "vocabulary", "park", "destinations"
]


class InputsUnavailable(Exception):
    """Room input could not be queued: the bus stayed unreachable past its retry window."""


class InputsBacklogged(InputsUnavailable):
    """The room already has ``room_backlog_mb`` of input its transcriber has not settled: nothing was sent."""


# What an input costs a room's backlog beside its audio and text: a flood of empty inputs is not free.
ENTRY_OVERHEAD_BYTES = 64


@dataclass(frozen=True)
class RoomInput:
    """``audio`` carries PCM16 bytes and the frame's ``seq``, ``text`` a caption. A transcriber that takes a room
    over mid-session starts from whatever input comes first, at its ``at``."""

    room_id: str
    session_id: str
    kind: InputKind
    seq: int = -1
    pcm: bytes = b""
    text: str = ""
    final: bool = False
    language: str = "en"
    at: float = 0.0  # session time: seconds of audio the session had before this input (text: its wall time)
    entry_id: str = ""  # where the bus keeps it, for ``handled``

    @property
    def size(self) -> int:
        """Bytes it counts in its room's backlog."""
        return len(self.pcm) + len(self.text.encode()) + ENTRY_OVERHEAD_BYTES

    @property
    def end(self) -> float:
        """Session time at the end of its audio (its ``at`` for anything else)."""
        return self.at + len(self.pcm) / BYTES_PER_SAMPLE / SAMPLE_RATE


class RoomInputs(Protocol):
    """Every implementation passes tests/contract/test_room_inputs.py."""

    async def send_input(self, message: RoomInput) -> None: ...

    async def send_within(self, message: RoomInput, budget: Budget) -> float:
        """Send ``message`` only if ``budget`` covers it, taken in the same step (a presenter's audio against the
        room's rate: one round trip in scale-out). 0 when sent; otherwise nothing is sent or taken, and the
        result is how many seconds until it would be. Raises ``InputsBacklogged`` (nothing sent or taken) when
        the room's input not settled yet would pass ``room_backlog_mb``: the room's transcriber is that far
        behind (or there is none), and the presenter keeps the audio and sends it again later."""
        ...

    async def admit(self, room_id: str) -> bool:
        """A new session may start in the room: a transcriber has (or, within a bounded wait, takes) it. False
        when every transcriber is at ``max_rooms``; nothing of the room is left waiting then."""
        ...

    def inputs(self) -> AsyncIterator[RoomInput]:
        """Room inputs for this transcriber: every room it owns, each room's in the order they were sent."""
        ...

    async def settled(self, room_id: str, session_id: str, seconds: float) -> None:
        """The room's audio before ``seconds`` (session time) is transcribed and its finals are stored."""
        ...

    async def handled(self, message: RoomInput) -> None:
        """A non-audio input is dealt with (text captioned and stored; control done)."""
        ...

    async def owns(self, room_id: str) -> bool:
        """This transcriber still has the room, asked before each final is stored: one whose lease expired
        while Redis failed over, and that another took with its unsettled audio, must store and tell nothing
        more, or the room would get two versions of a final."""
        ...

    async def finished(self, room_id: str, session_id: str) -> None:
        """The session ended and everything in it is stored: its input can go."""
        ...

    async def forget(self, room_id: str) -> None:
        """The room was deleted: whatever is kept of its input goes."""
        ...

    async def close(self) -> None: ...

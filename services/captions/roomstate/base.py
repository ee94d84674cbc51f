"""What every gateway must agree on about a live room, wherever its presenter and viewers are connected.

The session (id, state, the presenter's last frame number, its audio time) moves with the presenter: a
presenter that reconnects to another gateway continues the same session and numbering. Presence (is a
presenter connected, how many viewers) is summed over gateways; a gateway that stops reporting stops counting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from captions.protocol import SessionState


@dataclass
class LiveSession:
    session_id: str | None = None
    state: SessionState = "idle"
    last_seq: int = -1  # the presenter's last accepted audio frame
    audio_seconds: float = 0.0  # audio the session has received: the session time of the next frame
    last_activity: float = field(default_factory=time.time)  # wall clock: shared by every process


@dataclass(frozen=True)
class Presence:
    presenter_connected: bool
    viewers: int


class RoomState(Protocol):
    """Every implementation passes tests/contract/test_room_state.py."""

    async def session(self, room_id: str) -> LiveSession: ...

    async def save_session(self, room_id: str, session: LiveSession) -> None: ...

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        """This gateway's share of the room: whether it holds the presenter, how many viewers."""
        ...

    async def presence(self, room_id: str) -> Presence: ...

    async def forget(self, room_id: str) -> None:
        """The room was deleted."""
        ...

    async def heartbeat(self) -> None:
        """This gateway is alive: its presence counts (call more often than ``presence_ttl_s``)."""
        ...

    async def close(self) -> None: ...

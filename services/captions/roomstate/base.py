"""What every gateway must agree on about a room, wherever its presenter and viewers are connected.

The session (id, state, the presenter's last frame number, its audio time) moves with the presenter: a
presenter that reconnects to another gateway, or to a restarted server, continues the same session and
numbering. Presence (is a presenter connected, how many viewers) is summed over gateways; a gateway that stops
reporting stops counting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from captions.protocol import SessionState

OPEN_STATES: tuple[SessionState, ...] = ("live", "paused", "stopping")


@dataclass
class LiveSession:
    session_id: str | None = None
    state: SessionState = "idle"
    last_seq: int = -1  # the presenter's last accepted audio frame
    audio_seconds: float = 0.0  # audio the session has received: the session time of the next frame
    # Wall clock, shared by every process: the last thing the presenter did (or its (dis)connection).
    last_activity: float = field(default_factory=time.time)
    started_at: float = field(default_factory=time.time)  # wall clock

    @property
    def open(self) -> bool:
        """Started and not ended: the session a presenter's audio goes to."""
        return self.session_id is not None and self.state in OPEN_STATES


@dataclass(frozen=True)
class Presence:
    presenter_connected: bool
    viewers: int


class RoomState(Protocol):
    """Every implementation passes tests/contract/test_room_state.py."""

    async def session(self, room_id: str) -> LiveSession:
        """The room's current or last session (``idle`` with no id when it never had one)."""
        ...

    async def save_session(self, room_id: str, session: LiveSession) -> None:
        """Save a session that is open (the gateway leading it is the only writer)."""
        ...

    async def end_session(self, room_id: str, session_id: str) -> bool:
        """Mark the session ended, only if it is still the room's session; True when it was."""
        ...

    async def open_rooms(self) -> list[str]:
        """Rooms whose session is open: where a presenter may be missing for too long."""
        ...

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

"""What every gateway must agree on about a room, wherever its presenter and viewers are connected.

The session (id, state, the presenter's last frame number, its audio time) moves with the presenter: a
presenter that reconnects to another gateway, or to a restarted server, continues the same session and
numbering. Presence (is a presenter connected, how many viewers) is summed over gateways; a gateway that stops
reporting stops counting. Nothing here grows with every room: each open session has a time to be looked at
again (``due_rooms``), and a room's statuses are throttled by the room, not by each gateway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from captions.protocol import SessionState

OPEN_STATES: tuple[SessionState, ...] = ("live", "paused", "stopping")
# A room given out by ``due_rooms`` comes due again this long after, unless it is rechecked or ends.
RECHECK_S = 15.0
# A room's status turn held by a gateway that died before sending comes free after this long.
STATUS_TURN_S = 5.0


@dataclass
class LiveSession:
    session_id: str | None = None
    state: SessionState = "idle"
    last_seq: int = -1  # the presenter's last accepted audio frame
    audio_seconds: float = 0.0  # audio the session has received: the session time of the next frame
    # Wall clock, shared by every process: the last thing the presenter did (or its (dis)connection).
    last_activity: float = field(default_factory=time.time)
    started_at: float = field(default_factory=time.time)  # wall clock
    paused_at: float = 0.0  # wall clock; reconnecting does not move it
    parked: bool = False  # gave its transcription slot back (``gateway/slots.py``)
    held_by: str = ""  # the limiter key of the presenter's share it holds a slot of

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

    async def due_rooms(self, limit: int) -> list[str]:
        """Up to ``limit`` rooms whose session is open and due for a look (its presenter may have been gone for
        too long). Each is given to one caller, and given again ``RECHECK_S`` later unless it is ``recheck``-ed
        or ends: a gateway that dies while looking leaves nothing forgotten."""
        ...

    async def recheck(self, room_id: str, at: float) -> None:
        """Look at the room's open session again at ``at`` (wall clock), not before."""
        ...

    async def claim_status(self, room_id: str) -> float:
        """This gateway sends the room's next status: 0, and the turn is this gateway's until ``status_sent``
        (or ``STATUS_TURN_S``, should it die first). Otherwise the seconds until the turn may be claimed again:
        one status at a time per room, however many gateways the room's viewers are on."""
        ...

    async def status_sent(self, room_id: str, hold_s: float) -> None:
        """The room's status went out: its next one, from whichever gateway, not before ``hold_s`` from now.
        Counted from the sending, not from the claim, so a slow sender never lets two statuses go out close
        together."""
        ...

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        """This gateway's share of the room: whether it holds the presenter, how many viewers."""
        ...

    async def presence(self, room_id: str) -> Presence: ...

    async def forget(self, room_id: str) -> None:
        """The room was deleted: its state goes, and presence shared for it later (a heartbeat in flight) is
        not kept. Room inputs other than ``delete`` sent for it afterwards are dropped too."""
        ...

    async def heartbeat(self) -> None:
        """This gateway is alive: its presence counts (call more often than ``presence_ttl_s``)."""
        ...

    async def close(self) -> None: ...

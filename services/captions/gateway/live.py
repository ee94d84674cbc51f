"""What a gateway knows about the rooms its clients are in: the shared session, its own presenter and viewers."""

from __future__ import annotations

from dataclasses import dataclass, field

from captions.protocol import Caption, Role
from captions.roomstate.base import LiveSession
from captions.store.base import RoomRecord


@dataclass
class Client:
    sid: str
    room_id: str
    role: Role
    address: str
    # Refusals since this client's last accepted event: a client that keeps sending what is refused is
    # disconnected. Each kind of refusal is logged once per client.
    refusals: int = 0
    logged: set[str] = field(default_factory=set)


@dataclass
class LiveRoom:
    room_id: str
    language: str
    # This gateway's copy of the shared session: the truth while the presenter is connected here, else kept
    # fresh by the room's status events.
    session: LiveSession = field(default_factory=LiveSession)
    presenter_sid: str | None = None
    viewers: set[str] = field(default_factory=set)
    # Clients being sent their catch-up: live captions wait here so each arrives once, in order.
    catching_up: dict[str, list[Caption]] = field(default_factory=dict)
    status_scheduled: bool = False
    refused_until: float = 0.0  # monotonic time until which a new session is refused (no transcriber free)
    record: RoomRecord | None = None  # the stored room, read by the first client's connection

    @property
    def leads(self) -> bool:
        """The presenter is connected here: this gateway's copy of the session is the one that counts."""
        return self.presenter_sid is not None

    @property
    def empty(self) -> bool:
        """Nobody here: no presenter, no viewer, and nobody still joining (a client being let in is in
        ``catching_up`` from its first moment, so the room cannot be dropped under it)."""
        return self.presenter_sid is None and not self.viewers and not self.catching_up

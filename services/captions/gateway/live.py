"""What a gateway knows about the rooms its clients are in: the shared session, its own presenter and viewers."""

from __future__ import annotations

from dataclasses import dataclass, field

from captions.gateway.limits import TokenBucket
from captions.protocol import Caption, Role
from captions.roomstate.base import LiveSession


@dataclass
class Client:
    sid: str
    room_id: str
    role: Role
    audio: TokenBucket
    events: TokenBucket


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

    @property
    def leads(self) -> bool:
        """The presenter is connected here: this gateway's copy of the session is the one that counts."""
        return self.presenter_sid is not None

    @property
    def empty(self) -> bool:
        return self.presenter_sid is None and not self.viewers

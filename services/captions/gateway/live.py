"""What a gateway knows about the rooms its clients are in: sessions, presenter, viewers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from captions.gateway.limits import TokenBucket
from captions.protocol import Caption, Role, SessionState, Status


@dataclass
class Client:
    room_id: str
    role: Role
    audio: TokenBucket
    events: TokenBucket


@dataclass
class LiveRoom:
    room_id: str
    language: str
    session_id: str | None = None
    state: SessionState = "idle"
    last_seq: int = -1
    presenter_sid: str | None = None
    viewers: set[str] = field(default_factory=set)
    # Viewers being sent their catch-up: live captions wait here so each arrives once, in order.
    catching_up: dict[str, list[Caption]] = field(default_factory=dict)
    last_activity: float = field(default_factory=time.monotonic)
    status_scheduled: bool = False

    def status(self) -> Status:
        return Status(
            room=self.room_id,
            session=self.state,
            session_id=self.session_id,
            presenter_connected=self.presenter_sid is not None,
            viewers=len(self.viewers),
            last_seq=self.last_seq,
        )

    @property
    def empty(self) -> bool:
        return self.presenter_sid is None and not self.viewers and self.state == "idle"

"""Room events: what transcribers and gateways publish and every gateway delivers to its clients in the room.

``caption``, ``status`` and ``lag`` go to clients as they are; ``recognizer`` (the room's captions fell back to
the local model) and ``destinations`` (a destination's state changed) to its presenter. ``ended`` (the transcriber stored a stopped
session's last final), ``deleted`` (the room was deleted) and ``rotated`` (its key or viewer token was
replaced) are for gateways: they change what the room's
clients are told and who stays connected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel

from captions.destinations.models import Destinations
from captions.protocol import Caption, Lag, Model, RecognizerNotice, Status


class SessionEnded(Model):
    session_id: str


class RoomDeleted(Model):
    room: str


class SecretsRotated(Model):
    room: str


RoomEventName = Literal[
    "caption", "status", "lag", "ended", "deleted", "rotated", "recognizer", "destinations"
]
ROOM_EVENT_MODELS: dict[RoomEventName, type[BaseModel]] = {
    "caption": Caption,
    "status": Status,
    "lag": Lag,
    "recognizer": RecognizerNotice,
    "destinations": Destinations,
    "ended": SessionEnded,
    "deleted": RoomDeleted,
    "rotated": SecretsRotated,
}


@dataclass(frozen=True)
class RoomEvent:
    room_id: str
    name: RoomEventName
    payload: BaseModel

    @classmethod
    def caption(cls, room_id: str, caption: Caption) -> RoomEvent:
        return cls(room_id, "caption", caption)


class RoomEvents(Protocol):
    """Every implementation passes tests/contract/test_room_events.py."""

    async def publish(self, event: RoomEvent) -> None: ...

    async def subscribe(self, room_id: str) -> None:
        """From its return, every event of the room is delivered by ``events``, once, in order."""
        ...

    async def unsubscribe(self, room_id: str) -> None: ...

    @property
    def subscribed(self) -> frozenset[str]:
        """The rooms this gateway receives the events of."""
        ...

    def events(self) -> AsyncIterator[RoomEvent]:
        """The events of the subscribed rooms, each room's in order, for one gateway."""
        ...

    async def close(self) -> None: ...

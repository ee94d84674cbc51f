"""What the product keeps: rooms, their sessions, and the final captions of each session (with corrections)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from captions.protocol import SessionState


@dataclass(frozen=True)
class RoomRecord:
    id: str
    title: str
    language: str
    key_hash: str
    created_at: datetime
    embed_origins: tuple[str, ...] = ()  # sites allowed to embed the captions widget; empty = any
    viewer_token_hash: str = ""  # private rooms: SHA-256 of the viewer token; empty = public
    notice: str = ""  # what viewers are told of the captions ("Live captions by ..."); empty = the default
    recognizer: str = "local"  # what turns the room's speech into text (captions.recognizers)
    vocabulary: tuple[str, ...] = ()  # the talk's own terms (names, jargon), given to the recogniser
    organizer: str = ""  # the id of the organizer who created it; empty = created anonymously


@dataclass(frozen=True)
class OrganizerRecord:
    """Someone allowed to create rooms on a public deployment: only a hash of their token is kept."""

    id: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


class OrganizerStore(Protocol):
    """Every implementation passes tests/contract/test_organizers.py."""

    async def add(self, organizer: OrganizerRecord) -> None:
        """Raises ValueError when an organizer of that name has not been revoked."""
        ...

    async def by_token(self, token_hash: str) -> OrganizerRecord | None:
        """The organizer holding that token, unless revoked."""
        ...

    async def all(self) -> list[OrganizerRecord]:
        """Oldest first, revoked ones included."""
        ...

    async def revoke(self, name: str, at: datetime) -> bool:
        """False when no organizer of that name holds a token."""
        ...

    async def stored_bytes(self, organizer_id: str) -> int:
        """The caption text the organizer's rooms keep, in UTF-8 bytes."""
        ...


@dataclass(frozen=True)
class DestinationRecord:
    """Somewhere a room's captions are sent on (``captions.destinations``). ``sealed`` is its settings encrypted
    (URLs with tokens, secrets, passwords: never kept in clear); ``target`` what may be shown of it. ``id`` is
    derived from the settings, so a list saved again with the same entry keeps its ``progress`` (how far the
    talk was delivered, as the destinations package writes it)."""

    room_id: str
    id: str
    position: int
    kind: str
    sealed: str
    target: str
    progress: str = ""
    state: str = "ok"
    error: str = ""


class DestinationStore(Protocol):
    """Every implementation passes tests/contract/test_destinations.py."""

    async def replace(self, room_id: str, destinations: Sequence[DestinationRecord]) -> None:
        """The room's list becomes ``destinations``: entries kept keep their progress, and every entry starts
        as ``ok`` again (saving the list retries a failed one). Raises RoomGone when the room does not exist."""
        ...

    async def of_room(self, room_id: str) -> list[DestinationRecord]:
        """In the presenter's order."""
        ...

    async def save_progress(self, room_id: str, destination_id: str, progress: str) -> None:
        """Nothing happens for a destination no longer in the room's list."""
        ...

    async def save_state(self, room_id: str, destination_id: str, state: str, error: str) -> None: ...


@dataclass(frozen=True)
class RoomUsage:
    sessions: int
    caption_bytes: int  # the UTF-8 text of its finals


class RoomGone(LookupError):
    """A write for a room that was deleted (or a session that no longer exists): refused, never stored."""


@dataclass(frozen=True)
class SessionRecord:
    """A talk. ``state`` .. ``last_activity`` are the live session as the gateway keeps it (written by
    ``update_session``); ``settled_seq``/``settled_at`` are written by the transcriber: every frame up to
    ``settled_seq`` (session time ``settled_at``) is transcribed and its finals are stored. ``restart_at`` (at or
    after ``settled_at``) and ``listen_from``, where set: the point from which a transcriber taking the session
    over hears the audio exactly as the one before did (see ``recognizers.events.RestartPoint``)."""

    id: str
    room_id: str
    started_at: datetime
    ended_at: datetime | None = None
    state: SessionState = "live"
    last_seq: int = -1
    audio_seconds: float = 0.0
    last_activity: float = 0.0
    settled_seq: int = -1
    settled_at: float = 0.0
    restart_at: float | None = None
    listen_from: float = 0.0


@dataclass(frozen=True)
class CaptionRecord:
    """A final caption. ``seq`` orders the captions of a room across sessions (catch-up asks for seq > n)."""

    id: str
    room_id: str
    session_id: str
    seq: int
    text: str
    start: float
    end: float
    corrected: bool = False


class Store(Protocol):
    """Every implementation passes tests/contract/test_store.py."""

    @property
    def organizers(self) -> OrganizerStore: ...

    @property
    def destinations(self) -> DestinationStore: ...

    async def create_room(self, room: RoomRecord) -> None: ...

    async def get_room(self, room_id: str) -> RoomRecord | None: ...

    async def set_embed_origins(self, room_id: str, origins: tuple[str, ...]) -> None: ...

    async def set_vocabulary(self, room_id: str, terms: tuple[str, ...]) -> None: ...

    async def set_secrets(self, room_id: str, key_hash: str, viewer_token_hash: str) -> None:
        """New hashes of the presenter key and the viewer token (rotation)."""
        ...

    async def delete_room(self, room_id: str) -> bool:
        """Removes the room with its sessions, captions and destinations; False if there was no such room."""
        ...

    async def room_usage(self, room_id: str) -> RoomUsage:
        """What the room keeps: its sessions and the text of their finals."""
        ...

    async def unused_rooms(self, created_before: datetime, limit: int) -> list[str]:
        """Rooms created before ``created_before`` that never had a session (at most ``limit``)."""
        ...

    async def expire_sessions(self, ended_before: datetime, limit: int) -> int:
        """Removes sessions that ended before ``ended_before`` with their captions (at most ``limit``); how
        many went."""
        ...

    async def start_session(self, session: SessionRecord) -> None:
        """Raises RoomGone when the room does not exist."""
        ...

    async def update_session(
        self,
        session_id: str,
        *,
        state: SessionState,
        last_seq: int,
        audio_seconds: float,
        last_activity: float,
    ) -> None:
        """Save the live fields of a session that has not ended (an ended one stays as it is)."""
        ...

    async def settle_session(
        self, session_id: str, seq: int, at: float, restart: tuple[float, float] | None = None
    ) -> None:
        """Frames up to ``seq`` (session time ``at``) are transcribed and stored, and ``restart`` is the session's
        restart point and where it listens from (or none); never moves back."""
        ...

    async def end_session(self, session_id: str, ended_at: datetime) -> None:
        """State ``ended`` with its time; the first end counts."""
        ...

    async def sessions(self, room_id: str) -> list[SessionRecord]:
        """Oldest first."""
        ...

    async def latest_session(self, room_id: str) -> SessionRecord | None: ...

    async def open_sessions(self) -> list[SessionRecord]:
        """Sessions of every room that have not ended."""
        ...

    async def append_final(self, caption: CaptionRecord) -> None:
        """Idempotent: a caption id already stored is left as it is. Raises RoomGone when the caption's
        session (or room) does not exist."""
        ...

    async def correct(self, room_id: str, caption_id: str, text: str) -> CaptionRecord | None:
        """Replace a final's text; None when the room has no such caption."""
        ...

    async def blank(self, room_id: str, caption_ids: Sequence[str]) -> None:
        """The room's finals of these ids become empty and corrected (the rest of a corrected sentence), in one
        write."""
        ...

    async def captions(
        self, session_id: str, after_seq: int = -1, limit: int | None = None
    ) -> list[CaptionRecord]:
        """The session's finals with ``seq`` > ``after_seq``, in order; the first ``limit`` of them."""
        ...

    async def last_captions(self, session_id: str, count: int) -> list[CaptionRecord]:
        """The session's last ``count`` finals, in order."""
        ...

    async def close(self) -> None: ...

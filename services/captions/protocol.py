"""The public contract: every realtime event and REST body, as pydantic models.

Clients outside this repository rely on these names and fields: extend them, never rename. The JSON Schemas in
``shared/schemas/`` are generated from this module (``captions export-schemas``) and the Angular app generates
its TypeScript types from them, so Python and TypeScript cannot drift.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# The audio a presenter sends: PCM16LE mono at 16 kHz.
SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2

MAX_CAPTION_CHARS = 2000
RoomId = Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
CaptionId = Annotated[str, Field(min_length=1, max_length=64)]
MAX_CORRECTED_FINALS = 50  # a sentence or two of live finals: one correction replaces at most this many
CaptionText = Annotated[str, Field(max_length=MAX_CAPTION_CHARS)]
Role = Literal["presenter", "viewer"]
# idle -> live <-> paused -> stopping -> ended: ``stopping`` while the transcriber settles the last words,
# ``ended`` once they are stored (a transcript fetched then is complete).
SessionState = Literal["idle", "live", "paused", "stopping", "ended"]
# Every ``code`` the server (and its nginx edge) can send, in an ``error`` event, a refused connection's
# ``data`` or a problem response: clients tell people what happened by it (the web app has a sentence for each).
ErrorCode = Literal[
    # refused connections
    "unknown_room", "bad_key", "private_room", "bad_auth", "too_many_connections", "closed",
    # a presenter's or viewer's event
    "not_connected", "unknown_event", "bad_payload", "forbidden", "rate_limited", "too_many_refusals",
    "internal_error", "capacity", "too_many_live_rooms", "presenter_replaced", "credentials_rotated",
    "room_deleted",
    # audio and captions
    "resend", "frame_too_large", "frame_too_short", "bad_frame_length", "unreadable_audio", "seq_jump",
    "unknown_caption", "bad_range", "audio_quota", "storage_quota", "session_full", "room_full",
    # REST
    "invalid_request", "not_found", "unknown_session", "no_session_yet", "method_not_allowed", "bad_request",
    "untrusted_host", "public_room", "organizer_required", "bad_organizer_token", "unauthorized",
    "nothing_to_rotate", "recognizer_not_configured", "unsupported_language", "body_too_large",
    "websocket_required", "unavailable",
    # destinations (captions sent on to Zoom, YouTube, OBS, webhooks)
    "too_many_destinations", "destination_refused",
]  # fmt: skip
# A caption's id is ``{session_id}:{n}``: n counts the session's finals from 0.
_CAPTION_ID = re.compile(r"^([A-Za-z0-9_-]{1,40}):([0-9]{1,9})$")


def caption_id(session_id: str, seq: int) -> str:
    return f"{session_id}:{seq}"


def parse_caption_id(value: str) -> tuple[str, int] | None:
    """(session id, n) of a well-formed caption id; None for anything else (a client's ``last_id`` is input)."""
    match = _CAPTION_ID.match(value)
    return (match[1], int(match[2])) if match else None


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Socket.IO: connecting --------------------------------------------------------------------------------


class ConnectAuth(Model):
    """The ``auth`` object of a Socket.IO connection."""

    room: RoomId
    role: Role
    key: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="Presenter key.")
    token: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Viewer token of a private room (from the viewer link's fragment)."
    )
    last_id: CaptionId | None = Field(default=None, description="Last caption seen, to catch up after it.")


# --- Socket.IO: presenter -> server -----------------------------------------------------------------------


# The largest integer a JavaScript number holds exactly: a frame number never needs more.
MAX_SEQ = 2**53 - 1


class AudioFrame(Model):
    """``audio``: PCM16LE mono 16 kHz; ``seq`` counts frames so resent frames are dropped."""

    seq: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    pcm: bytes


class TextCaption(Model):
    """``text``: words recognised in the browser (Web Speech API), bypassing the server's recogniser."""

    kind: Literal["partial", "final"]
    text: CaptionText


class Correction(Model):
    """``correct``: the presenter fixes a final caption, or replaces consecutive finals of a session (``id``
    through ``through``) with one text: viewers receive a ``correction`` for each, the first with the text and
    the others empty."""

    id: CaptionId
    text: CaptionText
    through: CaptionId | None = Field(
        default=None, description=f"Last final of the range (at most {MAX_CORRECTED_FINALS} finals)."
    )


# A room's vocabulary: the talk's names and jargon, given to the recogniser. Bounded so that it fits what every
# recogniser takes (Whisper's prompt, a phrase list) and costs little per decode.
MAX_VOCABULARY_TERMS = 100
MAX_TERM_CHARS = 50
Term = Annotated[
    str,
    Field(
        min_length=1, max_length=MAX_TERM_CHARS, pattern=r"^[^\x00-\x1f,;]*[^\s\x00-\x1f,;][^\x00-\x1f,;]*$"
    ),
]
Terms = Annotated[list[Term], Field(max_length=MAX_VOCABULARY_TERMS)]


class VocabularyUpdate(Model):
    """``vocabulary`` from the presenter: the room's terms from now on (the whole list; it replaces the last)."""

    terms: Terms


# --- Socket.IO: server -> presenter and viewers -----------------------------------------------------------


class Vocabulary(Model):
    """``vocabulary`` to the presenter: the room's terms, when it joins and whenever they change. ``learned``:
    the terms just taken from a correction of theirs (words the recogniser got wrong)."""

    terms: list[str]
    learned: list[str] = Field(default_factory=list)


class RecognizerNotice(Model):
    """``recognizer`` to the presenter: the room's captions now come from ``active`` instead of ``requested``
    (the cloud service failed mid-talk), and why. Its next session tries ``requested`` again."""

    room: RoomId
    requested: str
    active: str
    reason: str


class Caption(Model):
    """``caption``. A partial is replaced by the next partial or final with the same id; a final never changes
    except through a ``correction`` with its id. Times are seconds from the start of the session."""

    id: CaptionId
    kind: Literal["partial", "final", "correction"]
    text: CaptionText
    start: float
    end: float
    session_id: str
    through: CaptionId | None = Field(
        default=None,
        description="A correction of a sentence said over several finals: the finals after ``id`` up to this "
        "one (same session) become empty, ``id`` reads the whole text.",
    )


class Status(Model):
    """``status``: the room as everyone in it should see it."""

    room: RoomId
    session: SessionState
    session_id: str | None = None
    presenter_connected: bool
    viewers: Annotated[int, Field(ge=0)]
    last_seq: int = Field(
        default=-1,
        description="Last audio frame accepted in this session: a presenter resumes numbering after it.",
    )
    resume_seq: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="The first audio frame the server needs (again): a presenter resends its kept frames from "
        "here after a reconnect. Below last_seq + 1 only when a server restart lost unsettled audio.",
    )
    audio_seconds: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="Audio the session has received: its running time."
    )


class Lag(Model):
    """``lag``: transcription is this far behind the presenter's audio. Sent when it passes a second, while it
    lasts, and once more (0) when transcription has caught up. Finals are never dropped; partials are."""

    room: RoomId
    seconds: Annotated[float, Field(ge=0)]


class ErrorEvent(Model):
    """``error``: what was wrong with the last thing a client sent; the connection stays usable."""

    code: Annotated[ErrorCode, Field(title="ErrorCode")]
    message: str
    resume_seq: int | None = Field(
        default=None, description="``resend``: the frame to send again from (every later one after it)."
    )


# --- REST -------------------------------------------------------------------------------------------------


# Automatic captions make mistakes; viewers are told so unless the room says who captions it.
DEFAULT_NOTICE = "Automatic captions: they may contain mistakes."


class RoomCreate(Model):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    language: Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")] = (
        "en"
    )
    private: bool = Field(
        default=False,
        description="Viewers, embeds and transcripts need the viewer token (in the viewer link).",
    )
    notice: Annotated[str, Field(max_length=120)] | None = Field(
        default=None,
        description="What viewers are told of the captions, e.g. 'Live captions by Jane Doe'; "
        f"none: {DEFAULT_NOTICE!r}.",
    )
    recognizer: Annotated[str, Field(max_length=20, pattern=r"^[a-z]+$")] | None = Field(
        default=None,
        description="What turns speech into text (GET /api/capabilities lists this server's); none: the default.",
    )
    vocabulary: Terms = Field(
        default_factory=list, description="The talk's names and jargon, to be recognised as written."
    )


class RoomCreated(Model):
    id: RoomId
    title: str
    language: str
    private: bool
    presenter_key: str = Field(description="Shown once; only its hash is stored.")
    viewer_token: str | None = Field(
        default=None,
        description="Private rooms: shown once; the viewer and embed links carry it after #token=.",
    )
    viewer_url: str
    embed_url: str


class RoomRotate(Model):
    """``POST /api/rooms/{id}/rotate``: which of the room's secrets to replace (a leaked link, a presenter who
    left the team). Whoever holds an old one is disconnected and refused from then on."""

    presenter_key: bool = True
    viewer_token: bool = Field(default=False, description="Private rooms only.")


class RoomRotated(Model):
    presenter_key: str | None = Field(default=None, description="The new key, shown once.")
    viewer_token: str | None = Field(default=None, description="The new viewer token, shown once.")
    viewer_url: str | None = Field(default=None, description="With a new viewer token: the new viewer link.")
    embed_url: str | None = None


Origin = Annotated[str, Field(max_length=300, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]


class EmbedOrigins(Model):
    """Sites allowed to embed a room's captions widget (Content-Security-Policy frame-ancestors); empty = any."""

    origins: Annotated[list[Origin], Field(max_length=20)]


class RoomInfo(Model):
    id: RoomId
    title: str
    language: str
    private: bool
    created_at: datetime
    live: bool
    viewers: Annotated[int, Field(ge=0)]
    notice: str = Field(description="What viewers are told of the captions.")
    recognizer: str = Field(description="What turns the room's speech into text.")
    has_transcript: bool = Field(
        description="A session has begun here, so its transcript can be read (`transcript.*` answers 404 before)."
    )


class SessionInfo(Model):
    id: str
    room_id: RoomId
    started_at: datetime
    ended_at: datetime | None
    state: SessionState


EVENT_MODELS: dict[str, type[BaseModel]] = {
    "connect-auth": ConnectAuth,
    "audio": AudioFrame,
    "text": TextCaption,
    "correct": Correction,
    "caption": Caption,
    "status": Status,
    "lag": Lag,
    "error": ErrorEvent,
    "vocabulary-update": VocabularyUpdate,
    "vocabulary": Vocabulary,
    "recognizer": RecognizerNotice,
}


class RecognizerInfo(Model):
    """What one way of turning speech into text can do on this server."""

    languages: list[str] = Field(
        description="Languages it transcribes (BCP-47 codes; a room's plain 'en' maps to its own English)."
    )
    partials: bool = Field(description="It shows words before they are final.")
    vocabulary: bool = Field(description="It takes a room's vocabulary (names, jargon).")
    name: str = Field(description="What to call it in a user interface.")


class Capabilities(Model):
    """``GET /api/capabilities``: what this server can transcribe, for a client to offer only that."""

    recognizers: dict[str, RecognizerInfo]
    default: str
    # organizers: creating a room needs an organizer's token (Authorization: Bearer ...)
    room_creation: Literal["open", "organizers"] = "open"


REST_MODELS: dict[str, type[BaseModel]] = {
    "room-create": RoomCreate,
    "room-created": RoomCreated,
    "room-rotate": RoomRotate,
    "room-rotated": RoomRotated,
    "room-info": RoomInfo,
    "session-info": SessionInfo,
    "embed-origins": EmbedOrigins,
    "capabilities": Capabilities,
}

"""The recogniser protocol: what the transcriber needs from whatever turns a room's speech into text.

Audio frames of one session in (PCM16LE mono 16 kHz), caption events out: partials that settle into finals, with
times in session seconds, and ``settled`` points (audio before them is final or silence, so a transcriber that
takes the room over resumes there and loses nothing). A stream that can no longer recognise (a cloud service
refused, failed or went away) ends its ``events()`` with ``RecognizerFailed``; the transcriber then carries the
talk on with the local model (``fallback.py``).

Every implementation passes tests/contract/test_recognizers.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from captions.recognizers.events import CaptionEvent, Resume

__all__ = ["CaptionEvent", "Recognizer", "RecognizerFailed", "RecognizerStream", "Resume", "StreamOptions"]


class RecognizerFailed(Exception):
    """The service stopped recognising this stream. ``reason`` is safe to show the presenter and to log: it
    names what failed (auth, quota, network), never a credential."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StreamOptions:
    """``language``: the room's BCP-47 code, already mapped to one this recogniser knows. ``resume``: where the
    session stands (a new session: at 0, nothing committed)."""

    language: str
    vocabulary: Sequence[str] = ()
    resume: Resume = field(default_factory=lambda: Resume(0.0, 0.0))


class RecognizerStream(Protocol):
    async def feed(self, frame: bytes) -> None:
        """Queue PCM16 bytes; raises AudioFormatError for bytes that are not whole samples."""
        ...

    async def flush(self) -> None:
        """A pause: make everything heard so far final, keep taking audio."""
        ...

    async def finish(self) -> None:
        """No more audio: everything heard becomes final, then ``events()`` ends."""
        ...

    def abandon(self) -> None:
        """Stop at once without settling anything (the room goes on elsewhere)."""
        ...

    def events(self) -> AsyncIterator[CaptionEvent]:
        """Caption events in order; raises RecognizerFailed when the service fails."""
        ...

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        """Terms from now on (a recogniser that can only take them per stream uses them from its next one)."""
        ...

    @property
    def lag_seconds(self) -> float:
        """Audio fed but not recognised yet."""
        ...

    @property
    def busy_seconds(self) -> float:
        """Time this server spent recognising (0 for a cloud service): for the real-time factor."""
        ...


class Recognizer(Protocol):
    name: str

    def open_stream(self, options: StreamOptions) -> RecognizerStream: ...

    async def close(self) -> None: ...

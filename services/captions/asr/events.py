"""What the engine emits: partial captions that settle into final ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from captions.asr.words import Word

# ``settled``: no caption, only news that audio before ``settled`` is done (a stream in silence says so too).
CaptionKind = Literal["partial", "final", "settled"]


@dataclass(frozen=True, slots=True)
class CaptionEvent:
    """A caption of one stream.

    ``id`` counts finals from 0. A partial carries the id that the next final will take: partial N is the
    unstable text that final N replaces, so a display keeps one line per id. A final never changes.
    ``start``/``end`` are seconds from the start of the stream; ``audio_position`` is how much audio had been
    fed when the event was emitted. Audio before ``settled`` is committed or silence: a stream resumed from there
    (another transcriber taking the room over) loses nothing.
    """

    kind: CaptionKind
    id: int
    text: str
    start: float
    end: float
    words: tuple[Word, ...]
    audio_position: float
    settled: float = 0.0

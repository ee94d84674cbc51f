"""The recogniser contract's values: the words and captions every recogniser (the local engine, a cloud
service) emits, and where a stream resumes when another recogniser takes it over. Nothing here knows how
speech is recognised: ``asr/`` (the local engine) and the cloud adapters sit below it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

_NOT_WORD = re.compile(r"[^\w']+")
# The most earlier text a resumed recogniser reads as context (the engine's prompt takes up to 800 characters).
RESUME_CONTEXT_CHARS = 800


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word: ``text`` as Whisper wrote it (leading space, punctuation); times in stream seconds."""

    text: str
    start: float
    end: float
    probability: float

    @property
    def key(self) -> str:
        """The word for comparisons: case and punctuation do not make two hypotheses disagree."""
        return normalise(self.text)


def normalise(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


# ``settled``: no caption, only news that audio before ``settled`` is done (a stream in silence says so too).
CaptionKind = Literal["partial", "final", "settled"]


@dataclass(frozen=True, slots=True)
class CaptionEvent:
    """A caption of one stream.

    ``id`` counts finals from 0. A partial carries the id that the next final will take: partial N is the
    unstable text that final N replaces, so a display keeps one line per id. A final never changes.
    ``start``/``end`` are seconds from the start of the stream; ``audio_position`` is how much audio had been
    fed when the event was emitted. Audio before ``settled`` is committed or silence: a stream resumed from there
    (another transcriber taking the room over) loses nothing. With ``listen_from``, ``settled`` is where the
    stream's voice detector restarted after an utterance, which ended at ``listen_from``: a stream resumed with
    both hears from there exactly what this one heard.
    """

    kind: CaptionKind
    id: int
    text: str
    start: float
    end: float
    words: tuple[Word, ...]
    audio_position: float
    settled: float = 0.0
    listen_from: float | None = None


class Said(Protocol):
    """A final as stored: its text and where it lies in the stream."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True)
class RestartPoint:
    """Where a stream's voice detector restarted (``at``) after an utterance that ended at ``listen_from``."""

    at: float
    listen_from: float


@dataclass(frozen=True)
class Resume:
    """Continue a stream that another recogniser started: audio restarts at ``at`` seconds, words that end
    before ``committed_end`` were already final, ``prompt`` is the text before them. ``finals``: the same
    finals placed in time (one ``Word`` each), for a recogniser that re-hears the utterance in progress and
    must take as context only what was said before it. ``restart``: the settled point the recogniser before
    reported last, with its ``listen_from`` (see ``CaptionEvent``), where there was one."""

    at: float
    committed_end: float
    prompt: str = ""
    finals: tuple[Word, ...] = ()
    restart: RestartPoint | None = None

    @classmethod
    def after(cls, at: float, finals: Sequence[Said], restart: RestartPoint | None = None) -> Resume:
        """Continue at ``at`` after the stream's last finals (oldest first), as many as make
        ``RESUME_CONTEXT_CHARS`` of text: the new recogniser's context is then the one the recogniser before it
        had."""
        chars, first = 0, len(finals)
        while first > 0 and chars < RESUME_CONTEXT_CHARS:
            first -= 1
            chars += len(finals[first].text) + (1 if chars else 0)  # joined by spaces
        finals = finals[first:]
        return cls(
            at=at,
            committed_end=finals[-1].end if finals else 0.0,
            prompt=" ".join(final.text for final in finals),
            # A Word's text is as Whisper writes it, with its leading space: prompts are joined from them.
            finals=tuple(Word(" " + final.text.strip(), final.start, final.end, 1.0) for final in finals),
            restart=restart,
        )

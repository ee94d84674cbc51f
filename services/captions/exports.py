"""Transcript formats: WebVTT, SubRip, plain text and JSON, from timed cues (the finals as stored; subtitles
join them into sentences, JSON keeps each final with its id), written as the finals come."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

TranscriptFormat = Literal["vtt", "srt", "txt", "json"]
FORMATS: tuple[TranscriptFormat, ...] = ("vtt", "srt", "txt", "json")
MEDIA_TYPES: dict[TranscriptFormat, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}


CUE_MAX_CHARS = 84  # two subtitle lines of 42
CUE_MAX_S = 7.0
CUE_PAUSE_S = 1.5
_SENTENCE_END = re.compile(r"[.?!…][\"')\]”]*$")


@dataclass(frozen=True)
class Cue:
    id: str
    start: float
    end: float
    text: str


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _one_line(text: str) -> str:
    # A blank line ends a cue in both formats: cue text is one line.
    return " ".join(text.split())


def _vtt_text(text: str) -> str:
    """WebVTT cue text escapes ``&``, ``<`` and ``>`` as the spec says; with ``>`` escaped, no ``-->`` (which
    would start a timing line) can remain."""
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _srt_text(text: str) -> str:
    """SubRip has no escapes and players read ``<i>``-style tags: angle brackets become look-alike quotes,
    which also leaves no ``-->``."""
    return _one_line(text).replace("<", "\u2039").replace(">", "\u203a")


class Sentences:
    """Live finals are a few words each; subtitles read as sentences. Consecutive finals are joined until a
    sentence ends, a pause of ``CUE_PAUSE_S`` falls between them, or the cue would pass two subtitle lines
    (``CUE_MAX_CHARS``) or ``CUE_MAX_S`` on screen. Fed page by page: a cue is given out once it is complete."""

    def __init__(self) -> None:
        self._open: Cue | None = None

    def add(self, cue: Cue) -> Cue | None:
        """The cue this final completed, if it did."""
        text = " ".join(cue.text.split())
        if not text:
            return None
        last = self._open
        if (
            last is None
            or _SENTENCE_END.search(last.text)
            or cue.start - last.end >= CUE_PAUSE_S
            or len(last.text) + 1 + len(text) > CUE_MAX_CHARS
            or cue.end - last.start > CUE_MAX_S
        ):
            self._open = Cue(cue.id, cue.start, cue.end, text)
            return last
        self._open = Cue(last.id, last.start, max(last.end, cue.end), f"{last.text} {text}")
        return None

    def finish(self) -> Cue | None:
        last, self._open = self._open, None
        return last


def sentences(cues: Iterable[Cue]) -> list[Cue]:
    joiner = Sentences()
    joined = [done for cue in cues if (done := joiner.add(cue)) is not None]
    last = joiner.finish()
    return [*joined, last] if last is not None else joined


class TranscriptWriter:
    """A transcript written as its finals come, page by page: memory holds one page and one cue, whatever
    the length of the talk. ``add`` gives the text that is complete so far, ``finish`` the rest."""

    def __init__(self, fmt: TranscriptFormat) -> None:
        self._fmt = fmt
        self._sentences = Sentences()
        self._written = 0

    def start(self) -> str:
        return {"vtt": "WEBVTT\n", "srt": "", "txt": "", "json": '{"cues": ['}[self._fmt]

    def add(self, cues: Iterable[Cue]) -> str:
        parts: list[str] = []
        for cue in cues:
            if self._fmt == "json":
                parts.append(self._json(cue))
            elif self._fmt == "txt":
                parts.append(self._txt(cue))
            elif (done := self._sentences.add(cue)) is not None:
                parts.append(self._subtitle(done))
        return "".join(parts)

    def finish(self) -> str:
        if self._fmt == "json":
            return ("\n" if self._written else "") + "]}\n"
        if self._fmt == "txt":
            return "\n" if self._written else ""
        last = self._sentences.finish()
        return self._subtitle(last) if last is not None else ""

    def _json(self, cue: Cue) -> str:
        self._written += 1
        return ("," if self._written > 1 else "") + "\n " + json.dumps(asdict(cue), ensure_ascii=False)

    def _txt(self, cue: Cue) -> str:
        text = " ".join(cue.text.split())
        if not text:
            return ""
        self._written += 1
        return (" " if self._written > 1 else "") + text

    def _subtitle(self, cue: Cue) -> str:
        # Each cue lasts at least 10 ms: players drop empty or zero-length cues.
        self._written += 1
        end = max(cue.end, cue.start + 0.01)
        if self._fmt == "vtt":
            return f"\n{_clock(cue.start, '.')} --> {_clock(end, '.')}\n{_vtt_text(cue.text)}\n"
        block = f"{self._written}\n{_clock(cue.start, ',')} --> {_clock(end, ',')}\n{_srt_text(cue.text)}\n"
        return block if self._written == 1 else "\n" + block


def render(cues: Iterable[Cue], fmt: TranscriptFormat) -> str:
    writer = TranscriptWriter(fmt)
    return writer.start() + writer.add(cues) + writer.finish()

"""Transcript formats: WebVTT, SubRip, plain text and JSON, from a list of timed cues (the finals as stored;
subtitles join them into sentences, JSON keeps each final with its id)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
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


def _timed(cues: Sequence[Cue]) -> list[Cue]:
    """Subtitles: the finals joined into sentences, each cue lasting at least 10 ms (players drop empty or
    zero-length cues)."""
    return [Cue(c.id, c.start, max(c.end, c.start + 0.01), c.text) for c in sentences(cues)]


def sentences(cues: Sequence[Cue]) -> list[Cue]:
    """Live finals are a few words each; subtitles read as sentences. Consecutive finals are joined until a
    sentence ends, a pause of ``CUE_PAUSE_S`` falls between them, or the cue would pass two subtitle lines
    (``CUE_MAX_CHARS``) or ``CUE_MAX_S`` on screen."""
    joined: list[Cue] = []
    for cue in cues:
        text = " ".join(cue.text.split())
        if not text:
            continue
        last = joined[-1] if joined else None
        if (
            last is None
            or _SENTENCE_END.search(last.text)
            or cue.start - last.end >= CUE_PAUSE_S
            or len(last.text) + 1 + len(text) > CUE_MAX_CHARS
            or cue.end - last.start > CUE_MAX_S
        ):
            joined.append(Cue(cue.id, cue.start, cue.end, text))
        else:
            joined[-1] = Cue(last.id, last.start, max(last.end, cue.end), f"{last.text} {text}")
    return joined


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT"]
    for cue in _timed(cues):
        blocks.append(f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{_vtt_text(cue.text)}")
    return "\n\n".join(blocks) + "\n"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{_srt_text(cue.text)}"
        for number, cue in enumerate(_timed(cues), start=1)
    ]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def to_txt(cues: Sequence[Cue]) -> str:
    text = " ".join(" ".join(c.text.split()) for c in cues if c.text.strip())
    return text + "\n" if text else ""


def to_json(cues: Sequence[Cue]) -> str:
    return json.dumps({"cues": [asdict(c) for c in cues]}, ensure_ascii=False, indent=1) + "\n"


def render(cues: Sequence[Cue], fmt: TranscriptFormat) -> str:
    renderers = {"vtt": to_vtt, "srt": to_srt, "txt": to_txt, "json": to_json}
    return renderers[fmt](cues)

"""Transcript formats: WebVTT, SubRip, plain text and JSON, from a list of timed cues."""

from __future__ import annotations

import json
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
    """Cues with text, each lasting at least 10 ms (players drop empty or zero-length cues)."""
    return [Cue(c.id, c.start, max(c.end, c.start + 0.01), c.text) for c in cues if c.text.strip()]


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

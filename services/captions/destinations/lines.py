"""Caption lines from finals. Most finals are a word or two: sent one by one, Zoom or YouTube would flash the
talk word by word. Words wait until they make a line: a sentence, a clause past ``min_chars``, at most
``max_chars``, or whatever was said before a pause; and never longer than ``max_wait_s`` after the final that
brought the first of them arrived, so a line's words lag the viewer page by a moment only."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"[.?!…][\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:—][\"')\]]*$")


@dataclass(frozen=True, order=True)
class Place:
    """A point in a session's words: before word ``word`` of final ``seq`` (both from 0)."""

    seq: int
    word: int


@dataclass(frozen=True)
class Final:
    seq: int
    text: str
    start: float  # session time
    end: float
    spoken_at: float  # wall-clock time (Unix seconds) its first word was spoken
    arrived: float  # monotonic time it reached the destinations


@dataclass(frozen=True)
class Line:
    session_id: str
    text: str
    begin: Place  # its first word
    after: Place  # just after its last word: where the next line begins
    start: float  # session time of its first word
    end: float
    spoken_at: float  # wall-clock time its first word was spoken

    @property
    def id(self) -> str:
        """The same words of the same session always make the same id (a line sent again is recognisable)."""
        return f"{self.session_id}:{self.begin.seq}.{self.begin.word}"


@dataclass(frozen=True)
class LineRules:
    min_chars: int = 32
    max_chars: int = 84
    pause_s: float = 0.8
    max_wait_s: float = 1.2


@dataclass(frozen=True)
class _Word:
    text: str
    place: Place
    start: float
    end: float
    spoken_at: float
    arrived: float


class LineAssembler:
    """One session's words into lines, for one destination (each keeps its own place in the talk)."""

    def __init__(self, session_id: str, rules: LineRules) -> None:
        self.session_id = session_id
        self._rules = rules
        self._words: list[_Word] = []

    def add(self, final: Final, skip_words: int = 0) -> list[Line]:
        """The lines this final completes. ``skip_words``: its first words were sent already (a resumed talk)."""
        words = final.text.split()
        if not words or skip_words >= len(words):
            return []
        lines: list[Line] = []
        if self._words and final.start - self._words[-1].end >= self._rules.pause_s:
            lines.extend(self.flush())
        span = (final.end - final.start) / len(words)
        for index in range(skip_words, len(words)):
            start = final.start + index * span
            self._words.append(
                _Word(
                    words[index],
                    Place(final.seq, index),
                    start,
                    start + span,
                    final.spoken_at + index * span,
                    final.arrived,
                )
            )
        while len(self._text(self._words)) > self._rules.max_chars:
            lines.append(self._cut(self._longest_fit()))
        text = self._text(self._words)
        if text and (
            _SENTENCE_END.search(text) or (len(text) >= self._rules.min_chars and _CLAUSE_END.search(text))
        ):
            lines.extend(self.flush())
        return lines

    def due_at(self) -> float | None:
        """Monotonic time by which the words waiting must go as a line, whatever its length."""
        return self._words[0].arrived + self._rules.max_wait_s if self._words else None

    def flush(self) -> list[Line]:
        """Whatever is waiting, as one line (at a pause, a deadline, the end of the session)."""
        return [self._cut(len(self._words))] if self._words else []

    def _longest_fit(self) -> int:
        """How many words make the first line: up to ``max_chars``, at a clause's end if one leaves a line of
        at least ``min_chars``."""
        fit = 1
        for count in range(1, len(self._words) + 1):
            if len(self._text(self._words[:count])) > self._rules.max_chars:
                break
            fit = count
        for count in range(fit, 0, -1):
            text = self._text(self._words[:count])
            if len(text) < self._rules.min_chars:
                break
            if _CLAUSE_END.search(text) or _SENTENCE_END.search(text):
                return count
        return fit

    def _cut(self, count: int) -> Line:
        taken, self._words = self._words[:count], self._words[count:]
        last = taken[-1]
        return Line(
            self.session_id,
            self._text(taken),
            taken[0].place,
            Place(last.place.seq, last.place.word + 1),
            round(taken[0].start, 3),
            round(last.end, 3),
            taken[0].spoken_at,
        )

    @staticmethod
    def _text(words: list[_Word]) -> str:
        return " ".join(word.text for word in words)

"""Word hypotheses and the text normalisation used to compare them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_WORD = re.compile(r"[^\w']+")


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


def join_words(words: list[Word]) -> str:
    return "".join(word.text for word in words).strip()


def repeats_itself(keys: list[str]) -> bool:
    """A decoder loop: a word or word pair three times in a row, or a phrase of 3+ words twice in a row.

    People do say "very very"; they do not repeat a whole phrase back to back within one short window, which is
    how Whisper loops ("a thin stripe runs down the middle a thin stripe runs down the middle a thin ...").
    """
    for size in range(1, len(keys) // 2 + 1):
        times = 3 if size < 3 else 2
        for start in range(len(keys) - size * times + 1):
            unit = keys[start : start + size]
            if all(keys[start + k * size : start + (k + 1) * size] == unit for k in range(1, times)):
                return True
    return False

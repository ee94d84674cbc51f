"""Which of a talk's terms it seems to be saying: the terms Whisper is given as hotwords.

All of a room's terms in every decode made ordinary speech worse (Whisper copies a comma-separated list's style,
and the names pull words towards them: "Stuff it into you" came out "Stuffed into you"). A term becomes active
once a hypothesis holds something that looks like it, spelled however Whisper heard it ("Cooper Netties" for
Kubernetes); that window is decoded again with the active terms, and so is the rest of the talk. Speech that
never comes near a term is decoded as if there were no vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from captions.recognizers.events import Word

# Similarity of letters (difflib's ratio) from which a stretch of words looks like a term. A short term is
# easily like a short word ("OAuth" and "now"): it must be closer.
SIMILAR = 0.6
SIMILAR_SHORT = 0.8
SHORT = 5
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")


def letters(text: str) -> str:
    return _NOT_LETTERS.sub("", text.lower())


def heard_terms(terms: Iterable[str], words: Sequence[Word]) -> list[str]:
    """Terms that a stretch of ``words`` (one word more than the term has, at most) looks like."""
    spoken = [letters(word.text) for word in words]
    found: list[str] = []
    for term in terms:
        target = letters(term)
        if not target:
            continue
        width = len(term.split()) + 1
        needed = SIMILAR_SHORT if len(target) <= SHORT else SIMILAR
        matcher = SequenceMatcher(None, target, autojunk=False)
        for start in range(len(spoken)):
            for end in range(start + 1, min(len(spoken), start + width) + 1):
                stretch = "".join(spoken[start:end])
                if (
                    end == len(spoken)
                    and SHORT < len(stretch) < len(target)
                    and _cut_off(target, stretch, needed)
                ):
                    found.append(term)
                    break
                if abs(len(stretch) - len(target)) > max(2, len(target) // 3):
                    continue
                matcher.set_seq2(stretch)
                if matcher.ratio() >= needed:
                    found.append(term)
                    break
            else:
                continue
            break
    return found


def _cut_off(target: str, stretch: str, needed: float) -> bool:
    """A hypothesis ends where the audio does, often inside a word: its last words may be the start of a term
    ("Cuba, neat..." while "Kubernetes" is being said)."""
    return SequenceMatcher(None, target[: len(stretch)], stretch, autojunk=False).ratio() >= needed

"""Word hypotheses and the text normalisation used to compare them."""

from __future__ import annotations

import re

from captions.recognizers.events import Word

_TRAILING_PUNCTUATION = re.compile(r"[^\w'\s]\s*$")
_SENTENCE_START = re.compile(r"(?<=[.?!]\s)[a-z]")
# Words the aligner could place nowhere in the audio come out with no duration, all at one instant; a few in a
# row are text Whisper wrote without hearing it (a sentence from the prompt said again at the window's end).
UNPLACED_S = 0.02
UNPLACED_RUN = 3


def join_words(words: list[Word]) -> str:
    return "".join(word.text for word in words).strip()


def ends_with_punctuation(word: Word) -> bool:
    return bool(_TRAILING_PUNCTUATION.search(word.text))


def ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip("\"')”").endswith((".", "?", "!"))


def context_prompt(words: list[Word], limit: int) -> str:
    """The talk's preceding text for Whisper to continue: its last ``limit`` characters, cut between words,
    each sentence starting with a capital.

    A prompt is a style sheet as much as context. Cut at a fixed character count it began mid-word; and a
    talk whose captions once came out lower-case or with a full stop after every final taught Whisper to write
    so from then on (the drift long talks showed). The committed text no longer carries either; sentence starts
    are capitalised here too, so no older text (a resumed session's) can teach it back.
    """
    if limit <= 0 or not words:
        return ""
    text = join_words(words)
    if len(text) > limit:  # the cut starts mid-sentence: its first word keeps its case
        cut = text[-limit:]
        text = (cut if text[-limit - 1] == " " else cut.partition(" ")[2]).strip()
    else:
        text = text[:1].upper() + text[1:]
    return _SENTENCE_START.sub(lambda match: match.group(0).upper(), text)


def heard_part(words: list[Word]) -> list[Word]:
    """``words`` up to the first run of ``UNPLACED_RUN`` words with no duration: what follows such a run is not
    in the audio either (Whisper's "... your country. I ask what you can do for your country." over the pause
    after "your country", nine words at 24.03 s). One short word alone is common and kept."""
    run = 0
    for index, word in enumerate(words):
        run = run + 1 if word.end - word.start < UNPLACED_S else 0
        if run == UNPLACED_RUN:
            return words[: index + 1 - run]
    return words


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

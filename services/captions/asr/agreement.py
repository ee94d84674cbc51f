"""LocalAgreement-2 (Macháček et al., "Turning Whisper into Real-Time Transcription System", 2023).

Each decode of the live buffer yields a word hypothesis. Words on which two consecutive hypotheses agree are
committed: they become final text that never changes. The rest is the unstable tail shown as a partial.
Decodes re-read audio behind already committed words, so those words are dropped from each new hypothesis by
time and by matching the committed tail.

Whisper ends every hypothesis as if the sentence ended where the audio does: a full stop, a comma, a cut-off
"fig-". Punctuation on a hypothesis's last word is therefore not evidence; such a word is committed only once a
later hypothesis has words after it (a sentence end: ``SENTENCE_END_CONTEXT_WORDS``), which decides its
punctuation in context, or the utterance ends (a pause supports the sentence end). Committed text carries no
boundary punctuation the speech did not support, and the next caption continues the sentence; a caption that
follows a sentence end starts with a capital.

Two consecutive hypotheses 0.3 s apart are made from nearly the same sound, and agree on a misheard word as
readily as on a heard one ("close" for "clubs", "am you" for "amiable"). A word either of them was unsure of
therefore waits until it has stood in the hypotheses for a while (``hold_unsure_s``), and so has been read
again with more sound after it; a word Whisper is sure of goes at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from captions.asr.words import ends_sentence, ends_with_punctuation
from captions.recognizers.events import Word

# Word timings from cross-attention are approximate: a re-decoded committed word may start this much later.
TIME_TOLERANCE_S = 0.1
# Words a hypothesis must hold after a full stop, question or exclamation mark before it is committed: with one
# word of right context Whisper still ends sentences that go on ("dinner. Turnips" for "dinner, turnips").
SENTENCE_END_CONTEXT_WORDS = 3
# How many words at the head of a hypothesis may repeat the committed tail (whisper_streaming uses 5).
MAX_OVERLAP_WORDS = 5
# Decode times are sums of 0.1 s frames: a word heard two steps ago has waited 0.6 s give or take a rounding.
HOLD_TOLERANCE_S = 1e-6


@dataclass
class LocalAgreement:
    """``committed`` holds the committed words still inside the audio buffer (the ones a decode can repeat)."""

    committed: list[Word] = field(default_factory=list)
    tail: list[Word] = field(default_factory=list)
    # When each tail word first stood where it stands (audio seconds).
    tail_heard_at: list[float] = field(default_factory=list)
    committed_end: float = 0.0
    sentence_ended: bool = True  # the last committed word ended a sentence (or nothing is committed yet)

    def fresh(self, hypothesis: list[Word]) -> list[Word]:
        """The part of ``hypothesis`` that is not already committed."""
        limit = self.committed_end - TIME_TOLERANCE_S
        words = [w for w in hypothesis if w.start > limit]
        if words and self.committed and abs(words[0].start - self.committed_end) < 1.0:
            for size in range(min(len(words), len(self.committed), MAX_OVERLAP_WORDS), 0, -1):
                if [w.key for w in self.committed[-size:]] == [w.key for w in words[:size]]:
                    return words[size:]
        return words

    def insert(
        self,
        hypothesis: list[Word],
        now_s: float = 0.0,
        unsure_below: float = 0.0,
        hold_unsure_s: float = math.inf,
    ) -> list[Word]:
        """Take a new hypothesis, made from the audio up to ``now_s``; return the words it commits: the prefix it
        shares with the previous one, up to a word either of them gave less than ``unsure_below`` that has not yet
        stood in the hypotheses for ``hold_unsure_s``."""
        new = self.fresh(hypothesis)
        shared = 0
        while shared < min(len(new), len(self.tail)) and new[shared].key == self.tail[shared].key:
            shared += 1
        heard_at = self.tail_heard_at[:shared] + [now_s] * (len(new) - shared)
        agreed = 0
        while agreed < shared:
            sure = min(new[agreed].probability, self.tail[agreed].probability) >= unsure_below
            if not sure and now_s - heard_at[agreed] < hold_unsure_s - HOLD_TOLERANCE_S:
                break
            agreed += 1
        # Punctuation needs words after it to be more than the window's end; a sentence end needs a few.
        for index in range(max(0, len(new) - SENTENCE_END_CONTEXT_WORDS), agreed):
            after = len(new) - 1 - index
            if ends_sentence(new[index].text) or (after < 1 and ends_with_punctuation(new[index])):
                agreed = index
                break
        self.tail, self.tail_heard_at = new[agreed:], heard_at[agreed:]
        return self._commit(new[:agreed])

    def commit_all(self, hypothesis: list[Word]) -> list[Word]:
        """End of an utterance: everything new in the last hypothesis is final."""
        self.tail, self.tail_heard_at = [], []
        return self._commit(self.fresh(hypothesis))

    def restart(self, at_s: float) -> None:
        """An utterance ended at ``at_s``: the next one's words are all new, however early Whisper times them."""
        self.committed, self.tail, self.tail_heard_at = [], [], []
        self.committed_end = at_s

    def forget_before(self, time_s: float) -> None:
        """Audio before ``time_s`` was trimmed away: words there can no longer come back in a hypothesis."""
        self.committed = [w for w in self.committed if w.end > time_s]
        kept = [index for index, word in enumerate(self.tail) if word.end > time_s]
        self.tail = [self.tail[index] for index in kept]
        self.tail_heard_at = [self.tail_heard_at[index] for index in kept]

    def _commit(self, words: list[Word]) -> list[Word]:
        if words:
            if self.sentence_ended:
                first = words[0]
                words = [replace(first, text=capitalised(first.text)), *words[1:]]
            self.committed.extend(words)
            self.committed_end = max(self.committed_end, words[-1].end)
            self.sentence_ended = ends_sentence(words[-1].text)
        return words


def capitalised(text: str) -> str:
    stripped = text.lstrip()
    return text[: len(text) - len(stripped)] + stripped[:1].upper() + stripped[1:]

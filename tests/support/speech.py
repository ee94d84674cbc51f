"""Real speech for tests and benchmarks: the recordings beside the repository, and how to score text."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import jiwer

SHIPPED_AUDIO_DIR = Path(__file__).resolve().parents[1] / "data"  # in the repository: tests run from a clone
SHARED_AUDIO_DIR = Path(__file__).resolve().parents[3] / "shared" / "audio"  # beside it, where present


@dataclass(frozen=True)
class SpeechCorpus:
    files: dict[str, Path]
    transcripts: dict[str, str]

    def path(self, name: str) -> Path:
        return self.files[name]

    def reference(self, name: str) -> str:
        return self.transcripts[name]


def find_corpus(default: Path = SHIPPED_AUDIO_DIR) -> SpeechCorpus | None:
    """The corpus at $CAPTIONS_TEST_AUDIO, else ``default``; None where it is absent."""
    root = Path(os.environ.get("CAPTIONS_TEST_AUDIO", default))
    index = root / "transcripts.tsv"
    if not index.is_file():
        return None
    with index.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        transcripts = {row["file"]: row["transcript"] for row in rows}
    return SpeechCorpus({name: root / name for name in transcripts}, transcripts)


def corpus_for_bench() -> SpeechCorpus:
    """Benchmarks take every recording there is: the shipped set and, where it is beside the repository, the
    shared one (a file in both is the shipped copy)."""
    shared, shipped = find_corpus(SHARED_AUDIO_DIR), find_corpus()
    found = [corpus for corpus in (shared, shipped) if corpus is not None]
    if not found:
        raise SystemExit("bench: no recordings (set CAPTIONS_TEST_AUDIO or put shared/audio beside the repo)")
    return SpeechCorpus(
        {name: corpus.path(name) for corpus in found for name in corpus.transcripts},
        {name: text for corpus in found for name, text in corpus.transcripts.items()},
    )


UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# Whisper writes titles abbreviated where readers' references spell them out (LibriSpeech's "MISTER").
TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def spoken_number(digits: str) -> str:
    """0-999 as read aloud ("42" -> "forty two"); longer numbers stay digits."""
    value = int(digits)
    if len(digits) > 3 or (len(digits) > 1 and digits.startswith("0")):
        return digits
    words: list[str] = []
    if value >= 100:
        words += [UNITS[value // 100], "hundred"]
        value %= 100
    if value >= 20:
        words.append(TENS[value // 10 - 2])
        value %= 10
        if value:
            words.append(UNITS[value])
    elif value or not words:
        words.append(UNITS[value])
    return " ".join(words)


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive, as the corpus README asks for WER; numbers and titles as read (Whisper
    writes "10" and "Mr." where references say "ten" and "mister"), as Whisper's own English normaliser does."""
    words = re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()
    read = [spoken_number(w) if w.isdigit() else TITLES.get(w, w) for w in words]
    return " ".join(read)


@dataclass(frozen=True)
class WordErrors:
    """What a hypothesis got wrong, by kind: a regression's kind shows (words dropped, changed or made up)."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    words: int = 0  # in the reference

    def __add__(self, other: WordErrors) -> WordErrors:
        return WordErrors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.words + other.words,
        )

    @property
    def rate(self) -> float:
        errors = self.substitutions + self.deletions + self.insertions
        return errors / self.words if self.words else float(errors > 0)

    @property
    def split(self) -> str:
        """``S/D/I`` as counts, for a benchmark's table."""
        return f"{self.substitutions}/{self.deletions}/{self.insertions}"


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return WordErrors(insertions=len(hyp.split()))
    if not hyp:
        return WordErrors(deletions=len(ref.split()), words=len(ref.split()))
    found = jiwer.process_words(ref, hyp)
    return WordErrors(found.substitutions, found.deletions, found.insertions, len(ref.split()))


def word_error_rate(reference: str, hypothesis: str) -> float:
    return word_errors(reference, hypothesis).rate

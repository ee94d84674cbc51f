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
    root: Path
    transcripts: dict[str, str]

    def path(self, name: str) -> Path:
        return self.root / name

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
        return SpeechCorpus(root, {row["file"]: row["transcript"] for row in rows})


def corpus_for_bench() -> SpeechCorpus:
    """Benchmarks take the larger shared set where it is beside the repository, else the shipped one."""
    corpus = find_corpus(SHARED_AUDIO_DIR) or find_corpus()
    if corpus is None:
        raise SystemExit("bench: no recordings (set CAPTIONS_TEST_AUDIO or put shared/audio beside the repo)")
    return corpus


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive, as the corpus README asks for WER."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


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

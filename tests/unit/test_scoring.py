"""How the tests and benchmarks score what was heard: numbers and titles as read, the same as Whisper writes them."""

from __future__ import annotations

import pytest

from tests.support.speech import corpus_for_bench, find_corpus, normalise, spoken_number, word_errors


@pytest.mark.parametrize(
    ("digits", "read"),
    [
        ("0", "zero"),
        ("7", "seven"),
        ("10", "ten"),
        ("19", "nineteen"),
        ("20", "twenty"),
        ("42", "forty two"),
        ("100", "one hundred"),
        ("105", "one hundred five"),
        ("999", "nine hundred ninety nine"),
        ("2024", "2024"),
        ("007", "007"),
    ],
)
def test_numbers_are_scored_as_read_aloud(digits: str, read: str) -> None:
    assert spoken_number(digits) == read


def test_whispers_digits_and_titles_match_a_reference_that_spells_them_out() -> None:
    assert (
        normalise("Mr. Dashwood went 10 meters; Dr. Who, 42.")
        == "mister dashwood went ten meters doctor who forty two"
    )
    assert word_errors("go forward ten meters", "Go forward 10 meters.").rate == 0.0
    # Still an error where the number is not what was said.
    assert word_errors("ten of clubs", "11 of clubs.").substitutions == 1


def test_benchmarks_take_every_recording_there_is() -> None:
    shipped = find_corpus()
    assert shipped is not None
    corpus = corpus_for_bench()
    assert set(shipped.transcripts) <= set(corpus.transcripts)
    for name in corpus.transcripts:
        assert corpus.path(name).is_file(), name

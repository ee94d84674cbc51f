from __future__ import annotations

from captions.asr.agreement import LocalAgreement
from captions.asr.words import heard_part, repeats_itself
from captions.recognizers.events import Word


def words(*spec: tuple[str, float]) -> list[Word]:
    return [Word(f" {text}", start, start + 0.3, 0.9) for text, start in spec]


def guess(*spec: tuple[str, float, float]) -> list[Word]:
    """Words with the probability Whisper gave each."""
    return [Word(f" {text}", start, start + 0.3, probability) for text, start, probability in spec]


def test_two_agreeing_hypotheses_commit_their_common_prefix() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(words(("ask", 0.0), ("not", 0.4))) == []
    committed = agreement.insert(words(("Ask", 0.0), ("not,", 0.4), ("what", 0.8)))
    assert [w.text for w in committed] == [" Ask", " not,"], (
        "later spelling wins; case and commas never disagree"
    )
    assert [w.text for w in agreement.tail] == [" what"]


def test_disagreement_commits_nothing() -> None:
    agreement = LocalAgreement()
    agreement.insert(words(("like", 0.0), ("you", 0.4)))
    assert agreement.insert(words(("what", 0.0), ("your", 0.4))) == []
    assert [w.key for w in agreement.tail] == ["what", "your"]


def test_an_early_agreement_commits_only_up_to_a_word_either_hypothesis_was_unsure_of() -> None:
    agreement = LocalAgreement()
    agreement.insert(guess(("And", 0.0, 0.5), ("so", 0.3, 0.9), ("my", 0.5, 0.2)))
    committed = agreement.insert(
        guess(("And", 0.0, 0.6), ("so", 0.3, 0.9), ("my", 0.5, 0.6), ("fellow", 0.8, 0.8)), unsure_below=0.3
    )
    assert [w.key for w in committed] == ["and", "so"], "'my' had 0.2 in the first hypothesis"
    assert [w.key for w in agreement.tail] == ["my", "fellow"]
    # Unsure from the first word: nothing is committed, whatever follows.
    agreement = LocalAgreement()
    agreement.insert(guess(("How", 0.0, 0.19), ("do", 0.3, 0.5), ("you", 0.5, 0.98)))
    assert (
        agreement.insert(guess(("How", 0.0, 0.11), ("do", 0.3, 0.45), ("you", 0.5, 0.98)), unsure_below=0.3)
        == []
    )
    assert agreement.insert(guess(("How", 0.0, 0.11), ("do", 0.3, 0.45), ("you", 0.5, 0.98))) != [], (
        "without a floor they agree"
    )


def test_a_word_either_hypothesis_was_unsure_of_waits_until_it_has_stood_for_the_hold() -> None:
    def hypothesis(third: str, probability: float) -> list[Word]:
        return guess(("four", 0.0, 0.9), ("of", 0.3, 0.9), (third, 0.6, probability), ("seven", 0.9, 0.9))

    agreement = LocalAgreement()
    held = {"unsure_below": 0.3, "hold_unsure_s": 0.6}
    assert agreement.insert(hypothesis("close", 0.2), 1.0, **held) == []
    committed = agreement.insert(hypothesis("close", 0.25), 1.3, **held)
    assert [w.key for w in committed] == ["four", "of"], "sure words go at once; 'close' waits"
    # Heard differently, the word's clock starts again: a changed word is new, however long its place stood.
    assert agreement.insert(guess(("clubs", 0.6, 0.2), ("seven", 0.9, 0.9)), 1.6, **held) == []
    assert agreement.insert(guess(("clubs", 0.6, 0.25), ("seven", 0.9, 0.9)), 1.9, **held) == []
    committed = agreement.insert(guess(("clubs", 0.6, 0.25), ("seven", 0.9, 0.9)), 2.2, **held)
    assert [w.key for w in committed] == ["clubs", "seven"], "after 0.6 s in the hypotheses it is final"


def test_committed_words_are_not_committed_again() -> None:
    agreement = LocalAgreement()
    agreement.insert(words(("so", 0.0), ("my", 0.4)))
    agreement.insert(words(("so", 0.0), ("my", 0.4), ("fellow", 0.8)))
    # A re-decode of the same audio repeats the committed words, with slightly shifted timings.
    committed = agreement.insert(words(("so", 0.05), ("my", 0.45), ("fellow", 0.8), ("Americans", 1.2)))
    assert [w.key for w in committed] == ["fellow"]


def test_commit_all_takes_the_whole_new_tail() -> None:
    agreement = LocalAgreement()
    agreement.insert(words(("drop", 0.0)))
    assert [w.key for w in agreement.commit_all(words(("drop", 0.0), ("the", 0.4)))] == ["drop", "the"]
    assert agreement.tail == []


def test_forgetting_trimmed_audio_keeps_the_commit_time() -> None:
    agreement = LocalAgreement()
    agreement.commit_all(words(("one", 0.0), ("two", 1.0)))
    agreement.forget_before(2.0)
    assert agreement.committed == []
    assert agreement.fresh(words(("two", 1.0), ("three", 2.1))) == words(("three", 2.1))


def test_loops_are_recognised() -> None:
    assert repeats_itself(["s", "s", "s"])
    assert repeats_itself(["ask", "not", "to", "ask", "not", "to", "ask", "not", "to"])
    assert not repeats_itself(
        [
            "ask",
            "not",
            "what",
            "your",
            "country",
            "can",
            "do",
            "for",
            "you",
            "ask",
            "what",
            "you",
            "can",
            "do",
        ]
    )


def test_a_re_decoded_committed_tail_is_dropped_by_its_words_when_its_timing_drifts() -> None:
    agreement = LocalAgreement()
    agreement.commit_all(words(("so", 0.0), ("my", 0.4)))  # committed up to 0.7 s
    # The next decode hears "my" again but places it later than the time tolerance allows.
    assert [w.key for w in agreement.fresh(words(("my", 0.65), ("fellow", 1.0)))] == ["fellow"]


def test_a_full_stop_where_the_window_ended_waits_for_the_next_hypothesis() -> None:
    agreement = LocalAgreement()
    agreement.insert(words(("is", 0.0), ("established.", 0.4)))
    # Both hypotheses end on "established."; only a later one can tell whether the sentence ends there.
    assert [w.text for w in agreement.insert(words(("is", 0.0), ("established.", 0.4)))] == [" Is"]
    committed = agreement.insert(words(("is", 0.0), ("established", 0.4), ("for", 0.8)))
    assert [w.text for w in committed] == [" established"], "decided in context: no full stop"


def test_a_sentence_end_with_too_few_words_after_it_waits_for_more() -> None:
    agreement = LocalAgreement()
    hypothesis = words(("dinner.", 0.0), ("Turnips", 0.4), ("and", 0.8))
    agreement.insert(hypothesis)
    assert agreement.insert(hypothesis) == [], "two words of context still end sentences that go on"
    committed = agreement.insert(words(("dinner,", 0.0), ("turnips", 0.4), ("and", 0.8), ("carrots", 1.2)))
    assert [w.text for w in committed] == [" Dinner,", " turnips", " and"]


def test_punctuation_inside_a_hypothesis_and_at_an_endpoint_is_kept() -> None:
    agreement = LocalAgreement()
    hypothesis = words(("dog.", 0.0), ("Drop", 0.4), ("the", 0.8), ("two", 1.2))
    agreement.insert(hypothesis)
    assert [w.text for w in agreement.insert(hypothesis)] == [" Dog.", " Drop", " the", " two"]
    assert [w.text for w in agreement.commit_all(words(("when", 1.6), ("figures.", 2.0)))] == [
        " when",
        " figures.",
    ]


def test_a_caption_after_a_sentence_end_starts_with_a_capital_and_one_inside_a_sentence_does_not_change() -> (
    None
):
    agreement = LocalAgreement()
    assert [w.text for w in agreement.commit_all(words(("and", 0.0), ("so", 0.4)))] == [" And", " so"]
    assert [w.text for w in agreement.commit_all(words(("my", 1.0), ("fellow", 1.4)))] == [" my", " fellow"]
    agreement.commit_all(words(("Americans.", 2.0)))
    assert [w.text for w in agreement.commit_all(words(("ask", 3.0)))] == [" Ask"]


def test_after_an_utterance_every_word_of_the_next_is_new_however_early_it_is_timed() -> None:
    agreement = LocalAgreement()
    agreement.commit_all([Word(" sauce.", 9.0, 10.9, 0.9)])  # Whisper stretched the last word into the pause
    agreement.restart(10.4)
    assert [w.key for w in agreement.fresh(words(("and", 10.35), ("so", 10.7)))] == ["and", "so"]


def test_words_placed_nowhere_in_the_audio_end_the_hypothesis() -> None:
    said = words(("your", 23.67), ("country.", 23.93))
    unheard = [Word(f" {text}", 24.03, 24.03, 0.9) for text in ("I", "ask", "what", "you")]
    again = [Word(" country.", 24.03, 24.17, 1.0)]
    assert heard_part(said + unheard + again) == said


def test_a_word_or_two_without_duration_are_kept() -> None:
    hypothesis = [
        *words(("the", 0.0)),
        Word(" a", 0.3, 0.3, 0.9),
        Word(" I", 0.3, 0.3, 0.9),
        *words(("dog", 0.4)),
    ]
    assert heard_part(hypothesis) == hypothesis

from __future__ import annotations

from captions.asr.streaming import HOTWORDS_CHARS, hotwords
from captions.asr.vocabulary import heard_terms
from captions.recognizers.events import Word
from captions.vocabulary.common import common_words
from captions.vocabulary.terms import clean_terms, learned_terms

TERMS = ["Kubernetes", "Siobhan Okonkwo", "gRPC", "OAuth", "Redis"]


def said(text: str) -> list[Word]:
    return [Word(f" {word}", index, index + 0.5, 1.0) for index, word in enumerate(text.split())]


def test_a_term_is_heard_however_whisper_spelled_it() -> None:
    assert heard_terms(TERMS, said("we run Cooper Netties at scale")) == ["Kubernetes"]
    assert heard_terms(TERMS, said("we run Qber needs at scale")) == ["Kubernetes"]
    assert heard_terms(TERMS, said("between them we speak GRPC")) == ["gRPC"]
    assert heard_terms(TERMS, said("the heart date in Reddis")) == ["Redis"]


def test_a_hypothesis_that_ends_inside_a_term_is_heard_saying_it() -> None:
    """The audio ended while the term was being said: its start is enough, and only at the hypothesis's end."""
    assert heard_terms(TERMS, said("we deployed it on Cuba, neat...")) == ["Kubernetes"]
    assert heard_terms(TERMS, said("we deployed it on Cuba, neat and tidy servers")) == []
    assert heard_terms(TERMS, said("we deployed it on Cuba")) == [], "too little of it to tell"


def test_ordinary_speech_comes_near_no_term() -> None:
    ordinary = "and so my fellow Americans ask not what your country can do for you now then"
    assert heard_terms(TERMS, said(ordinary)) == [], "a short term must be close: 'now' is not OAuth"
    assert heard_terms([], said(ordinary)) == []


def test_hotwords_keep_the_first_terms_within_their_share_of_the_prompt() -> None:
    assert hotwords(["Kubernetes", "gRPC"]) == "Kubernetes, gRPC"
    many = [f"Term{index:03d}" for index in range(100)]
    text = hotwords(many)
    assert len(text) <= HOTWORDS_CHARS
    assert text.startswith("Term000, Term001")
    assert not text.endswith(",")


def test_terms_are_tidied_and_kept_once() -> None:
    assert clean_terms(["Kubernetes", "  kubernetes ", "Siobhan   Okonkwo", "", "gRPC"]) == (
        "Kubernetes",
        "Siobhan Okonkwo",
        "gRPC",
    )
    assert len(clean_terms(f"t{index}" for index in range(300))) == 100


def test_a_correction_teaches_the_words_the_recogniser_got_wrong_and_nothing_common() -> None:
    assert learned_terms("we deploy on cooper netties", "we deploy on Kubernetes", []) == ["Kubernetes"]
    assert learned_terms("the talk", "a talk", []) == [], "common words teach nothing"
    assert learned_terms("speech to text with grpc", "Speech-to-Text with gRPC", []) == [], "heard already"
    assert learned_terms("peter and shall me", "Peter and Xiaomi", []) == ["Xiaomi"]
    assert learned_terms("on cooper netties", "on Kubernetes", ["kubernetes"]) == [], "known already"
    assert learned_terms("c plus plus", "C++ and Wi-Fi", []) == ["C++", "Wi-Fi"]
    assert learned_terms("in 2026", "in 2027", []) == []


def test_common_words_are_those_of_whispers_vocabulary() -> None:
    words = common_words()
    assert len(words) > 15_000
    assert {"the", "country", "transcription"} <= words
    assert not {"kubernetes", "xiaomi", "okonkwo"} & words

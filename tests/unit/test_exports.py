from __future__ import annotations

import json

from captions.exports import Cue, TranscriptFormat, render
from tests.support.subtitles import parse_blocks

CUES = [
    Cue("0", 0.0, 1.25, "And so my fellow Americans,"),
    Cue("1", 1.3, 3725.5, "ask not --> what\n\nyour country"),
    Cue("2", 3726.0, 3726.0, "   "),
]


def test_vtt_parses_back() -> None:
    text = render(CUES, "vtt")
    assert text.startswith("WEBVTT\n\n")
    parsed = parse_blocks(text.removeprefix("WEBVTT\n\n"), ".")
    assert [(s, e) for s, e, _ in parsed] == [(0.0, 1.25), (1.3, 3725.5)]
    assert parsed[1][2] == "ask not --&gt; what your country"


def test_cue_text_cannot_start_a_timing_line_or_markup() -> None:
    hostile = [Cue("0", 0.0, 1.0, "a ---> b --> c <b>bold</b> & <c.x>")]
    vtt = render(hostile, "vtt").removeprefix("WEBVTT\n\n")
    [(_, _, text)] = parse_blocks(vtt, ".")
    assert text == "a ---&gt; b --&gt; c &lt;b&gt;bold&lt;/b&gt; &amp; &lt;c.x&gt;"
    srt = render(hostile, "srt")
    [(_, _, text)] = parse_blocks(srt, ",")
    assert not {"<", ">"} & set(text)
    assert text == "a ---\u203a b --\u203a c \u2039b\u203abold\u2039/b\u203a & \u2039c.x\u203a"
    for rendered in (vtt, srt):
        assert rendered.count("-->") == 1  # the timing line's own


def test_srt_numbers_cues_from_one_with_comma_times() -> None:
    text = render(CUES, "srt")
    assert [block.split("\n")[0] for block in text.strip().split("\n\n")] == ["1", "2"]
    assert parse_blocks(text, ",")[1][:2] == (1.3, 3725.5)


def test_txt_and_json() -> None:
    assert render(CUES, "txt") == "And so my fellow Americans, ask not --> what your country\n"
    assert [c["id"] for c in json.loads(render(CUES, "json"))["cues"]] == ["0", "1", "2"]


def test_empty_transcripts_are_valid() -> None:
    assert render([], "vtt") == "WEBVTT\n"
    assert render([], "srt") == ""


def test_instant_cues_last_long_enough_for_players() -> None:
    instant = [Cue("0", 5.0, 5.0, "Yes."), Cue("1", 6.0, 7.5, "And more.")]
    formats: tuple[tuple[TranscriptFormat, str], ...] = (("vtt", "."), ("srt", ","))
    for fmt, separator in formats:
        text = render(instant, fmt).removeprefix("WEBVTT\n\n")
        [(start, end, _), second] = parse_blocks(text, separator)
        assert round(end - start, 3) >= 0.01, fmt
        assert second[:2] == (6.0, 7.5)


def test_subtitles_join_short_finals_into_sentences() -> None:
    finals = [
        Cue("s:0", 0.0, 0.8, "Unless a system"),
        Cue("s:1", 0.9, 1.6, "is established"),
        Cue("s:2", 1.7, 2.9, "for the frequent formal review."),
        Cue("s:3", 3.2, 3.5, "Of"),  # a new sentence, though close in time
        Cue("s:4", 3.6, 4.0, "activities"),
        Cue("s:5", 6.0, 6.5, "there under."),  # after a pause of 2 s: its own cue
    ]
    vtt = parse_blocks(render(finals, "vtt").removeprefix("WEBVTT\n\n"), ".")
    assert vtt == [
        (0.0, 2.9, "Unless a system is established for the frequent formal review."),
        (3.2, 4.0, "Of activities"),
        (6.0, 6.5, "there under."),
    ]
    assert [text for _, _, text in parse_blocks(render(finals, "srt"), ",")] == [text for _, _, text in vtt]
    assert len(json.loads(render(finals, "json"))["cues"]) == 6, "JSON keeps every final and its id"


def test_a_long_sentence_is_split_into_cues_of_two_subtitle_lines_at_most() -> None:
    words = [Cue(f"s:{n}", n * 0.3, n * 0.3 + 0.25, "word") for n in range(60)]
    cues = parse_blocks(render(words, "vtt").removeprefix("WEBVTT\n\n"), ".")
    assert all(len(text) <= 84 and end - start <= 7.0 for start, end, text in cues)
    assert " ".join(text for _, _, text in cues) == " ".join(["word"] * 60)

from __future__ import annotations

import json
import re

from captions.exports import Cue, render

CUES = [
    Cue("0", 0.0, 1.25, "And so my fellow Americans,"),
    Cue("1", 1.3, 3725.5, "ask not --> what\n\nyour country"),
    Cue("2", 3726.0, 3726.0, "   "),
]
TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d)[.,](\d\d\d) --> (\d\d):(\d\d):(\d\d)[.,](\d\d\d)$")


def parse_blocks(text: str, separator: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        timing_index = next(i for i, line in enumerate(lines) if "-->" in line)
        match = TIMING.match(lines[timing_index])
        assert match, lines[timing_index]
        assert separator in lines[timing_index]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        body = "\n".join(lines[timing_index + 1 :])
        assert "-->" not in body
        assert body.strip()
        cues.append((start, end, body))
    return cues


def test_vtt_parses_back() -> None:
    text = render(CUES, "vtt")
    assert text.startswith("WEBVTT\n\n")
    parsed = parse_blocks(text.removeprefix("WEBVTT\n\n"), ".")
    assert [(s, e) for s, e, _ in parsed] == [(0.0, 1.25), (1.3, 3725.5)]
    assert parsed[1][2] == "ask not -> what your country"


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

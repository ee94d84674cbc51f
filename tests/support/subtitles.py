"""Reading WebVTT and SubRip back, as a player would."""

from __future__ import annotations

import re

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

"""YouTube Live's HTTP caption ingestion: a POST per caption to the stream's ingestion URL with ``seq``; the
body is the time the words were spoken (UTC, millisecond ``YYYY-MM-DDTHH:MM:SS.mmm``) on one line and the text
on the next. YouTube answers with the time it received the caption, on its clock: the difference from ours
(taken at the middle of the request) corrects the times sent after it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import aiohttp

from captions.destinations.lines import Line
from captions.destinations.sending import request

# A clock offset beyond this is a misread answer, not a clock.
MAX_OFFSET_S = 600.0


def timestamp(unix_seconds: float) -> str:
    moment = datetime.fromtimestamp(unix_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def parse_timestamp(text: str) -> float | None:
    try:
        return datetime.strptime(text.strip()[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class YouTubeSender:
    def __init__(self, http: aiohttp.ClientSession, url: str, timeout_s: float) -> None:
        self._http = http
        self._url = url
        self._timeout_s = timeout_s
        self.clock_offset = 0.0  # YouTube's clock minus ours, as last measured

    async def last_accepted(self) -> int | None:
        return None

    async def send(self, line: Line, number: int) -> None:
        joiner = "&" if urlsplit(self._url).query else "?"
        body = f"{timestamp(line.spoken_at + self.clock_offset)}\n{line.text}\n"
        sent = time.time()
        answer = await request(
            self._http,
            "POST",
            f"{self._url}{joiner}{urlencode({'seq': number})}",
            self._timeout_s,
            body.encode(),
            {"Content-Type": "text/plain; charset=utf-8"},
        )
        received = parse_timestamp(answer.body.decode("utf-8", "replace"))
        if received is not None:
            offset = received - (sent + time.time()) / 2
            if abs(offset) <= MAX_OFFSET_S:
                self.clock_offset = offset

    async def close(self) -> None:
        await self._http.close()

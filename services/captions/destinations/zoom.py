"""Zoom's third-party closed captioning API: each caption is a POST of the text to the meeting's caption URL
with ``seq`` (one more per caption) and ``lang``; ``GET .../closedcaption/seq`` answers the last seq Zoom took,
so a sender that (re)starts goes on after it. Zoom asks clients to retry every error with back-off."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from captions.destinations.lines import Line
from captions.destinations.sending import DeliveryFailed, request


class ZoomSender:
    def __init__(self, http: aiohttp.ClientSession, url: str, lang: str, timeout_s: float) -> None:
        self._http = http
        self._url = url
        self._lang = lang
        self._timeout_s = timeout_s

    async def last_accepted(self) -> int | None:
        parts = urlsplit(self._url)
        seq_url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/seq"))
        answer = await request(self._http, "GET", seq_url, self._timeout_s)
        text = answer.body.decode("utf-8", "replace").strip()
        if not text.isdigit():
            raise DeliveryFailed("Zoom's last caption number could not be read")
        return int(text)

    async def send(self, line: Line, number: int) -> None:
        query = urlencode({"seq": number, "lang": self._lang})
        joiner = "&" if urlsplit(self._url).query else "?"
        await request(
            self._http,
            "POST",
            f"{self._url}{joiner}{query}",
            self._timeout_s,
            line.text.encode(),
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    async def close(self) -> None:
        await self._http.close()

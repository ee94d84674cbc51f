"""Webhooks: each caption line is POSTed as JSON, signed so the receiver knows it came from this server and
is fresh: ``X-Captions-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{body}" with the secret>`` beside
``X-Captions-Timestamp: <Unix seconds>`` (a receiver refuses old timestamps: a captured request cannot be
replayed later). The same line sent again has the same ``id`` and ``seq``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp

from captions.destinations.lines import Line
from captions.destinations.sending import request


def signature(secret: str, stamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(
        self, http: aiohttp.ClientSession, url: str, secret: str, room_id: str, timeout_s: float
    ) -> None:
        self._http = http
        self._url = url
        self._secret = secret
        self._room_id = room_id
        self._timeout_s = timeout_s

    async def last_accepted(self) -> int | None:
        return None

    async def send(self, line: Line, number: int) -> None:
        event = {
            "room": self._room_id,
            "session": line.session_id,
            "id": line.id,
            "seq": number,
            "kind": "line",
            "text": line.text,
            "start": line.start,
            "end": line.end,
        }
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Captions-Timestamp": stamp,
            "X-Captions-Signature": signature(self._secret, stamp, body),
        }
        await request(self._http, "POST", self._url, self._timeout_s, body, headers)

    async def close(self) -> None:
        await self._http.close()

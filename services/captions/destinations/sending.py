"""What every destination's sender does, and the HTTP request all but OBS make.

Errors a sender raises name what happened in words the presenter can act on ("HTTP 403", "timed out"); never
the exception's own text, which for an HTTP client includes the URL, and with it the meeting's caption token."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from captions.destinations.lines import Line

# Enough for any answer a caption service gives (a sequence number, a timestamp); more is not read.
MAX_ANSWER_BYTES = 4096


class DeliveryFailed(Exception):
    """This try failed; the line is tried again (with back-off) until the destination is given up on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotLive(Exception):
    """The destination is there but has nowhere to put captions now (OBS not streaming): the line is done with,
    since a caption shown minutes late would be worse than none."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    async def last_accepted(self) -> int | None:
        """The destination's own record of the last caption number it accepted, where it keeps one (Zoom)."""
        ...

    async def send(self, line: Line, number: int) -> None:
        """``number`` counts the destination's captions: one more per new line, the same when a line is sent
        again. Raises DeliveryFailed or NotLive."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


async def request(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    timeout_s: float,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request, redirects not followed (they could lead anywhere), the answer read up to a bound; a status
    other than 2xx raises DeliveryFailed."""
    try:
        async with asyncio.timeout(timeout_s):
            async with http.request(
                method, url, data=body or None, headers=headers, allow_redirects=False
            ) as response:
                answer = Answer(response.status, await response.content.read(MAX_ANSWER_BYTES))
    except TimeoutError as error:
        raise DeliveryFailed("timed out") from error
    except aiohttp.ClientConnectorError as error:
        raise DeliveryFailed("could not connect") from error
    except (aiohttp.ClientError, OSError) as error:
        raise DeliveryFailed("the connection failed") from error
    if 300 <= answer.status < 400:
        raise DeliveryFailed(f"HTTP {answer.status} (redirects are not followed)")
    if not 200 <= answer.status < 300:
        raise DeliveryFailed(f"HTTP {answer.status}")
    return answer

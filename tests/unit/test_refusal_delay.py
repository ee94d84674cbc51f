"""A refused request waits for its answer (``CAPTIONS_REFUSAL_DELAY_S``): a script that loops on refusals is
slowed to as many requests as it keeps open, while allowed requests are answered at once."""

from __future__ import annotations

import asyncio
import time

import httpx
from starlette.types import Receive, Scope, Send

from captions.gateway.http import GateRule, RequestGate, reads
from captions.limits.memory import MemoryLimiter

DELAY_S = 0.5


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def gate(delay_s: float) -> RequestGate:
    rule = GateRule("reads", rate=0.001, burst=2, matches=reads, title="too many requests")
    guarded = RequestGate(ok, (rule,), delay_s)
    guarded.limiter = MemoryLimiter()
    return guarded


async def timed_get(client: httpx.AsyncClient) -> tuple[int, float]:
    started = time.monotonic()
    response = await client.get("/api/rooms/abcd")
    return response.status_code, time.monotonic() - started


async def test_refused_requests_wait_for_their_answer() -> None:
    transport = httpx.ASGITransport(app=gate(DELAY_S))
    async with httpx.AsyncClient(transport=transport, base_url="http://captions.test") as client:
        answers = [await timed_get(client) for _ in range(4)]
    assert [status for status, _ in answers] == [200, 200, 429, 429]
    assert all(took >= DELAY_S for status, took in answers if status == 429), answers


async def test_a_loop_of_refused_requests_is_held_to_one_per_delay() -> None:
    transport = httpx.ASGITransport(app=gate(DELAY_S))
    async with httpx.AsyncClient(transport=transport, base_url="http://captions.test") as client:
        started = time.monotonic()
        answers = await asyncio.gather(*(timed_get(client) for _ in range(2)))  # the burst
        refused = [await timed_get(client) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200]
    assert time.monotonic() - started >= 3 * DELAY_S, "three refusals in a row take three delays"
    assert {status for status, _ in refused} == {429}

"""One contract for limits that hold across reconnects and processes: in memory (one process), and in Redis
(a real redis-server, two gateways sharing the counts)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from captions.limits.base import Limiter
from captions.limits.memory import MemoryLimiter
from captions.limits.redis import RedisLimiter
from captions.redis_client import connect
from captions.settings import Settings
from tests.support.processes import RedisServer
from tests.support.redis import redis_settings_for


@pytest.fixture(params=["memory", "redis", "cluster"])
async def gateways(request: pytest.FixtureRequest) -> AsyncIterator[Sequence[Limiter]]:
    """Two gateways' limiters: one shared object in one process, two Redis clients in scale-out."""
    if request.param == "memory":
        shared = MemoryLimiter()
        yield [shared, shared]
        return
    settings = redis_settings_for(request, request.param)
    clients = [connect(settings) for _ in range(2)]
    yield [RedisLimiter(client, f"gw-{n}", ttl_s=15) for n, client in enumerate(clients)]
    for client in clients:
        await client.aclose()


async def test_a_bucket_allows_its_burst_then_says_how_long_to_wait(gateways: Sequence[Limiter]) -> None:
    first, second = gateways
    for _ in range(3):
        assert await first.take("events:room:a", rate=2.0, burst=5) == 0
    for _ in range(2):
        assert await second.take("events:room:a", rate=2.0, burst=5) == 0, "the same bucket on every gateway"
    wait = await first.take("events:room:a", rate=2.0, burst=5)
    assert 0 < wait <= 0.5 + 0.05
    assert await first.take("events:room:b", rate=2.0, burst=5) == 0, "buckets are independent"
    await asyncio.sleep(wait)  # the refill itself is what is tested
    assert await second.take("events:room:a", rate=2.0, burst=5) == 0


async def test_an_amount_larger_than_the_tokens_left_takes_nothing(gateways: Sequence[Limiter]) -> None:
    limiter = gateways[0]
    assert await limiter.take("audio:room:a", rate=1.5, burst=30, amount=29.5) == 0
    assert await limiter.take("audio:room:a", rate=1.5, burst=30, amount=2.0) > 0
    assert await limiter.take("audio:room:a", rate=1.5, burst=30, amount=0.4) == 0, "what was left is kept"


async def test_slots_are_shared_and_come_back_when_released(gateways: Sequence[Limiter]) -> None:
    first, second = gateways
    assert await first.hold("connections:addr:x", "sid-1", limit=2)
    assert await second.hold("connections:addr:x", "sid-2", limit=2)
    assert not await first.hold("connections:addr:x", "sid-3", limit=2)
    assert await first.hold("connections:addr:x", "sid-1", limit=2), "holding again is not another slot"
    assert await first.hold("connections:addr:y", "sid-3", limit=2), "per key"
    await second.release("connections:addr:x", "sid-2")
    assert await first.hold("connections:addr:x", "sid-3", limit=2)
    await first.refresh()
    assert not await second.hold("connections:addr:x", "sid-4", limit=2)


async def test_a_slot_is_released_by_whichever_gateway_ends_what_holds_it(
    gateways: Sequence[Limiter],
) -> None:
    """A session admitted on one gateway may be stopped on another (its presenter moved)."""
    first, second = gateways
    assert await first.hold("live_rooms:addr:x", "room-1", limit=1)
    assert not await second.hold("live_rooms:addr:x", "room-2", limit=1)
    await second.release_anywhere("live_rooms:addr:x", "room-1")
    await first.refresh()  # the first gateway keeps its slots alive: not one released elsewhere
    assert await second.hold("live_rooms:addr:x", "room-2", limit=1)


async def test_slots_of_a_gateway_that_died_free_themselves(redis_settings: Settings) -> None:
    settings = redis_settings
    alive_client, dead_client = connect(settings), connect(settings)
    alive = RedisLimiter(alive_client, "alive", ttl_s=1.0)
    dead = RedisLimiter(dead_client, "dead", ttl_s=1.0)
    assert await dead.hold("connections:addr:x", "sid-1", limit=2)
    assert await alive.hold("connections:addr:x", "sid-2", limit=2)
    assert not await alive.hold("connections:addr:x", "sid-3", limit=2)
    await dead_client.aclose()  # killed: it renews nothing any more
    deadline = asyncio.get_running_loop().time() + 5
    while not await alive.hold("connections:addr:x", "sid-3", limit=2):
        assert asyncio.get_running_loop().time() < deadline, "the dead gateway's slot never expired"
        await alive.refresh()  # the living gateway keeps its own
        await asyncio.sleep(0.2)
    assert not await alive.hold("connections:addr:x", "sid-4", limit=2), "the living gateway's slots stayed"
    await alive_client.aclose()


async def test_limits_hold_in_each_process_while_redis_is_down(redis_server: RedisServer) -> None:
    """Refusing everyone would take the event down with Redis; enforcing nothing would hand it to any flood."""
    client = connect(Settings(redis_url=redis_server.url))
    limiter = RedisLimiter(client, "gw-a", ttl_s=5)
    assert await limiter.take("events:addr:{x}", rate=0.01, burst=2) == 0
    await asyncio.to_thread(redis_server.stop)
    try:
        assert await limiter.take("events:addr:{y}", rate=0.01, burst=2) == 0
        assert await limiter.take("events:addr:{y}", rate=0.01, burst=2) == 0
        assert await limiter.take("events:addr:{y}", rate=0.01, burst=2) > 0, "this process's own bucket"
        assert await limiter.hold("connections:addr:{y}", "c1", limit=1)
        assert not await limiter.hold("connections:addr:{y}", "c2", limit=1)
        await limiter.release("connections:addr:{y}", "c1")
        assert await limiter.hold("connections:addr:{y}", "c2", limit=1)
    finally:
        await asyncio.to_thread(redis_server.start)
    await client.aclose()

"""A process's Redis connection with both roles of the bus on it: what ``captions gateway`` and ``captions
transcriber`` each start from."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from captions.bus.redis_events import RedisRoomEvents
from captions.bus.redis_inputs import RedisRoomInputs
from captions.redis_client import RedisClient, Retrying, connect, instance_name
from captions.settings import Settings


@dataclass(frozen=True)
class RedisBus:
    client: RedisClient
    name: str  # this process in Redis (leases, consumers, presence)
    retrying: Retrying  # shared by every Redis user of the process
    inputs: RedisRoomInputs
    events: RedisRoomEvents


@contextlib.asynccontextmanager
async def redis_bus(settings: Settings) -> AsyncIterator[RedisBus]:
    client = connect(settings)
    name = instance_name(settings)
    retrying = Retrying(settings.redis_retry_s)
    bus = RedisBus(
        client,
        name,
        retrying,
        RedisRoomInputs(client, settings, name, retrying),
        RedisRoomEvents(client, settings, retrying),
    )
    try:
        yield bus
    finally:
        await bus.inputs.close()
        await bus.events.close()
        await client.aclose()

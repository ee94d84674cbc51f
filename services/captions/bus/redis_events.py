"""Room events on Redis: one capped stream (``captions:events``) that every gateway reads from its last id.

Unlike pub/sub, a gateway that loses Redis for a moment continues where it left off instead of missing what was
sent meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import redis.asyncio as aioredis

from captions.bus.events import ROOM_EVENT_MODELS, RoomEvent, RoomEventName
from captions.redis_client import BLOCK_MS, RETRY_PAUSE_S, UNAVAILABLE, Retrying
from captions.settings import Settings

log = logging.getLogger(__name__)

EVENTS = "captions:events"
READ_COUNT = 200


class RedisRoomEvents:
    def __init__(self, client: aioredis.Redis, settings: Settings, retrying: Retrying) -> None:
        # redis-py annotates its commands for sync and async clients at once (``Awaitable[T] | T``).
        self._redis: Any = client
        self._maxlen = settings.redis_events_maxlen
        self._retrying = retrying
        self._closed = False

    async def publish(self, event: RoomEvent) -> None:
        fields = {"room": event.room_id, "name": event.name, "payload": event.payload.model_dump_json()}
        await self._retrying(
            "publish a room event", lambda: self._redis.xadd(EVENTS, fields, maxlen=self._maxlen)
        )

    async def events(self) -> AsyncIterator[RoomEvent]:
        last: bytes | str = "$"
        newest = await self._retrying("read events", lambda: self._redis.xrevrange(EVENTS, count=1))
        if newest:
            last = newest[0][0]
        while not self._closed:
            try:
                batches = await self._redis.xread({EVENTS: last}, count=READ_COUNT, block=BLOCK_MS)
            except UNAVAILABLE as error:
                log.warning("events: Redis unavailable (%s); retrying", error)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            for _, entries in batches or []:
                for entry_id, fields in entries:
                    last = entry_id
                    event = _decode_event(fields)
                    if event is not None:
                        yield event

    async def close(self) -> None:
        self._closed = True


def _decode_event(fields: dict[bytes, bytes]) -> RoomEvent | None:
    name = cast(RoomEventName, fields[b"name"].decode())
    model = ROOM_EVENT_MODELS.get(name)
    if model is None:
        log.warning("events: unknown event %r", name)
        return None
    return RoomEvent(fields[b"room"].decode(), name, model.model_validate_json(fields[b"payload"]))

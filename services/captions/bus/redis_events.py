"""Room events on Redis: every room its own capped stream and its own sharded channel, so a gateway reads only
the rooms its clients are in, and a Redis Cluster spreads rooms over its nodes.

Publishing is one script in the room's slot: it numbers the event (``captions:{ROOM}:events:seq``), appends it to
the room's stream (capped by count and by age, expiring once the room is idle) and SPUBLISHes it with its number
and stream id on ``captions:{ROOM}:live``. A gateway subscribes to a room when its first client there arrives.
An event that is not the next one it expects (a message lost while a node failed over, a subscription moved by a
resharding) makes it read the room's stream from the last event it delivered, so it loses and repeats nothing;
ids come from the stream, so an event published after a failover that lost the newest entries still counts as
new even though its number went back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from captions import redis_keys
from captions.bus.events import ROOM_EVENT_MODELS, RoomEvent, RoomEventName
from captions.bus.redis_subscriber import ShardedSubscriber
from captions.redis_client import RedisClient, Retrying, stream_id
from captions.settings import Settings

log = logging.getLogger(__name__)
FILL_COUNT = 500
# Events read and not yet taken by the gateway at most: past it, the node readers wait (Redis holds the rest).
MAX_QUEUED_EVENTS = 10_000

_PUBLISH = """
local keep_ms = tonumber(ARGV[2])
local seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], keep_ms)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[5], ARGV[1], '*', 'seq', seq, 'name', ARGV[3], 'payload', ARGV[4])
local t = redis.call('TIME')
local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - keep_ms
redis.call('XTRIM', KEYS[1], 'MINID', '~', oldest)
redis.call('PEXPIRE', KEYS[1], keep_ms)
redis.call('SPUBLISH', KEYS[3], seq .. '\\n' .. id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return seq
"""


@dataclass
class _Room:
    """Where a gateway is in one room's events."""

    last_id: tuple[int, int] = (0, 0)
    last_seq: int = 0
    ready: bool = False  # its position is known: messages that came before are held in ``early``
    early: list[bytes] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RedisRoomEvents:
    def __init__(self, client: RedisClient, settings: Settings, retrying: Retrying) -> None:
        # redis-py annotates its commands for sync and async clients at once (``Awaitable[T] | T``).
        self._redis: Any = client
        self._maxlen = settings.redis_events_maxlen
        self._keep_ms = round(settings.redis_events_age_s * 1000)
        self._retrying = retrying
        self._publish = client.register_script(_PUBLISH)
        self._rooms: dict[str, _Room] = {}
        self._queue: asyncio.Queue[RoomEvent | None] = asyncio.Queue(maxsize=MAX_QUEUED_EVENTS)
        self._subscriber = ShardedSubscriber(client, self._on_message, self._fill)

    @property
    def subscribed(self) -> frozenset[str]:
        """The rooms whose channel this gateway has subscribed to now (as Redis was told)."""
        return frozenset(_room_of(channel) for channel in self._subscriber.channels)

    async def publish(self, event: RoomEvent) -> None:
        room = event.room_id
        keys = [redis_keys.events(room), redis_keys.events_seq(room), redis_keys.live_channel(room)]
        # A deleted room's history goes with it: its stream keeps only the deletion, for gateways filling a gap.
        maxlen, trim = (1, "=") if event.name == "deleted" else (self._maxlen, "~")
        args = [maxlen, self._keep_ms, event.name, event.payload.model_dump_json(), trim]
        await self._retrying("publish a room event", lambda: self._publish(keys=keys, args=args))

    async def subscribe(self, room_id: str) -> None:
        if room_id in self._rooms:
            return
        room = self._rooms[room_id] = _Room()
        try:
            await self._retrying(
                "subscribe to a room", lambda: self._subscriber.subscribe(redis_keys.live_channel(room_id))
            )
            newest = await self._retrying(
                "read a room's last event", lambda: self._redis.xrevrange(redis_keys.events(room_id), count=1)
            )
        except BaseException:
            self._rooms.pop(room_id, None)
            raise
        async with room.lock:
            if newest:
                entry_id, fields = newest[0]
                room.last_id, room.last_seq = stream_id(entry_id), int(fields[b"seq"])
            room.ready = True
            early, room.early = room.early, []
            for data in early:
                await self._handle(room_id, room, data)

    async def unsubscribe(self, room_id: str) -> None:
        if self._rooms.pop(room_id, None) is not None:
            await self._retrying(
                "unsubscribe from a room",
                lambda: self._subscriber.unsubscribe(redis_keys.live_channel(room_id)),
            )

    async def events(self) -> AsyncIterator[RoomEvent]:
        while (event := await self._queue.get()) is not None:
            yield event

    async def close(self) -> None:
        await self._subscriber.close()
        while self._queue.full():  # nobody reads any more: the end marker must fit
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    # --- from Redis ---------------------------------------------------------------------------------------

    async def _on_message(self, channel: str, data: bytes) -> None:
        room_id = _room_of(channel)
        room = self._rooms.get(room_id)
        if room is None:
            return
        async with room.lock:
            if not room.ready:
                room.early.append(data)
                return
            await self._handle(room_id, room, data)

    async def _handle(self, room_id: str, room: _Room, data: bytes) -> None:
        seq_text, entry_text, name, payload = data.split(b"\n", 3)
        entry_id, seq = stream_id(entry_text), int(seq_text)
        if entry_id <= room.last_id:
            return  # delivered already (read from the stream while filling a gap)
        if seq != room.last_seq + 1:
            await self._fill_locked(room_id, room)
            if entry_id <= room.last_id:
                return
            log.warning("room %s: event %d was no longer in its stream when its gap was filled", room_id, seq)
        await self._deliver(room_id, room, entry_id, seq, name, payload)

    async def _fill(self, channel: str) -> None:
        """After a (re)subscription: whatever the room published meanwhile."""
        room_id = _room_of(channel)
        room = self._rooms.get(room_id)
        if room is None or not room.ready:
            return
        async with room.lock:
            await self._fill_locked(room_id, room)

    async def _fill_locked(self, room_id: str, room: _Room) -> None:
        key = redis_keys.events(room_id)
        while True:
            start = "({}-{}".format(*room.last_id)
            entries = await self._retrying(
                "fill a gap in a room's events",
                lambda start=start: self._redis.xrange(key, start, "+", count=FILL_COUNT),  # type: ignore[misc]
            )
            for entry_id, fields in entries:
                await self._deliver(
                    room_id,
                    room,
                    stream_id(entry_id),
                    int(fields[b"seq"]),
                    fields[b"name"],
                    fields[b"payload"],
                )
            if len(entries) < FILL_COUNT:
                return

    async def _deliver(
        self, room_id: str, room: _Room, entry_id: tuple[int, int], seq: int, name: bytes, payload: bytes
    ) -> None:
        room.last_id, room.last_seq = entry_id, seq
        event = _decode_event(room_id, name.decode(), payload)
        if event is not None:
            await self._queue.put(event)


def _room_of(channel: str) -> str:
    return channel[channel.index("{") + 1 : channel.index("}")]


def _decode_event(room_id: str, name: str, payload: bytes) -> RoomEvent | None:
    """An event this version does not know, or cannot read, is logged and skipped: it must not stop delivery."""
    model = ROOM_EVENT_MODELS.get(cast(RoomEventName, name))
    if model is None:
        log.warning("events: unknown event %r in room %s", name[:40], room_id)
        return None
    try:
        return RoomEvent(room_id, cast(RoomEventName, name), model.model_validate_json(payload))
    except ValueError as error:
        log.warning("events: undecodable %s in room %s (%s)", name, room_id, str(error)[:200])
        return None

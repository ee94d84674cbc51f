"""Room state shared by gateways, in Redis: where a gateway touches Redis for anything but the bus.

``captions:{ROOM}:session`` is a hash of the room's current (or last) session; ``captions:sessions:open`` lists
the rooms whose session is open (written when a session opens or ends, not per frame).
``captions:{ROOM}:presence`` holds one field per gateway
(``"<presenter 0|1>:<viewers>"``); ``captions:gateways`` scores each gateway by its last heartbeat, and fields of
gateways silent for ``presence_ttl_s`` are ignored (a gateway killed with its viewers cannot say so).
"""

from __future__ import annotations

import time
from typing import Any

from captions import redis_keys
from captions.protocol import SessionState
from captions.redis_client import RedisClient, Retrying
from captions.roomstate.base import OPEN_STATES, LiveSession, Presence
from captions.settings import Settings

GATEWAYS = redis_keys.GATEWAYS
OPEN_SESSIONS = f"{redis_keys.PREFIX}:sessions:open"
# Ends the session only if it is still the room's: a late "ended" must not end the next session.
_END = """
if redis.call('hget', KEYS[1], 'session_id') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'state', 'ended')
return 1
"""
# Saves the session and says what it was: the global list of open sessions changes only when that changes.
_SAVE = """
local was = redis.call('hmget', KEYS[1], 'session_id', 'state')
redis.call('hset', KEYS[1], unpack(ARGV))
return was
"""


class RedisRoomState:
    def __init__(self, client: RedisClient, name: str, settings: Settings, retrying: Retrying) -> None:
        # redis-py annotates its commands for sync and async clients at once (``Awaitable[T] | T``).
        self._redis: Any = client
        self._name = name
        self._ttl = settings.presence_ttl_s
        self._retrying = retrying
        self._end = client.register_script(_END)
        self._save = client.register_script(_SAVE)

    async def session(self, room_id: str) -> LiveSession:
        fields: dict[bytes, bytes] = await self._retrying(
            "read a live session", lambda: self._redis.hgetall(redis_keys.session(room_id))
        )
        if not fields.get(b"session_id"):
            return LiveSession()
        state: SessionState = fields[b"state"].decode()  # type: ignore[assignment]
        return LiveSession(
            session_id=fields[b"session_id"].decode(),
            state=state,
            last_seq=int(fields[b"last_seq"]),
            audio_seconds=float(fields[b"audio_seconds"]),
            last_activity=float(fields[b"last_activity"]),
            started_at=float(fields[b"started_at"]),
        )

    async def save_session(self, room_id: str, session: LiveSession) -> None:
        if session.session_id is None:
            return
        fields: dict[str, str | int] = {
            "session_id": session.session_id,
            "state": session.state,
            "last_seq": session.last_seq,
            "audio_seconds": repr(session.audio_seconds),
            "last_activity": repr(session.last_activity),
            "started_at": repr(session.started_at),
        }

        args: list[str | int] = [item for pair in fields.items() for item in pair]
        was_id, was_state = await self._retrying(
            "save a live session", lambda: self._save(keys=[redis_keys.session(room_id)], args=args)
        )
        was_open = (
            was_id is not None and was_id.decode() == session.session_id and was_state.decode() in OPEN_STATES
        )
        if session.open != was_open:
            change = self._redis.sadd if session.open else self._redis.srem
            await self._retrying("list open sessions", lambda: change(OPEN_SESSIONS, room_id))

    async def end_session(self, room_id: str, session_id: str) -> bool:
        ended = await self._retrying(
            "end a session", lambda: self._end(keys=[redis_keys.session(room_id)], args=[session_id])
        )
        if ended:
            await self._retrying("list open sessions", lambda: self._redis.srem(OPEN_SESSIONS, room_id))
        return bool(ended)

    async def open_rooms(self) -> list[str]:
        members = await self._retrying("list open sessions", lambda: self._redis.smembers(OPEN_SESSIONS))
        return sorted(member.decode() for member in members)

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        key = redis_keys.presence(room_id)
        if presenter or viewers:
            share = f"{int(presenter)}:{viewers}"
            await self._retrying("count viewers", lambda: self._redis.hset(key, self._name, share))
        else:
            await self._retrying("count viewers", lambda: self._redis.hdel(key, self._name))

    async def presence(self, room_id: str) -> Presence:
        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(redis_keys.presence(room_id))
                pipe.zrangebyscore(GATEWAYS, time.time() - self._ttl, "+inf")
                results: list[Any] = await pipe.execute()
                return results

        shares, alive = await self._retrying("read presence", read)
        living = set(alive)
        presenter, viewers = False, 0
        for gateway, share in shares.items():
            if gateway not in living:
                continue
            has_presenter, _, count = share.decode().partition(":")
            presenter = presenter or has_presenter == "1"
            viewers += int(count)
        return Presence(presenter, viewers)

    async def forget(self, room_id: str) -> None:
        async def forget() -> None:
            await self._redis.delete(redis_keys.session(room_id), redis_keys.presence(room_id))
            await self._redis.srem(OPEN_SESSIONS, room_id)

        await self._retrying("forget a room", forget)

    async def heartbeat(self) -> None:
        """Not retried: the next heartbeat is the retry."""
        moment = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(GATEWAYS, {self._name: moment})
            pipe.zremrangebyscore(GATEWAYS, "-inf", moment - 10 * self._ttl)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.zrem(GATEWAYS, self._name)

"""Room state shared by gateways, in Redis: where a gateway touches Redis for anything but the bus.

``captions:{ROOM}:session`` is a hash of the room's current (or last) session. ``captions:{ROOM}:presence``
holds one field per gateway, ``"<presenter 0|1>:<viewers>:<until, ms>"``, renewed by the gateway's heartbeat:
a gateway killed with its viewers cannot say so, and its share stops counting by itself. ``captions:{ROOM}:status``
is held by the gateway that will tell the room its next status. Times in scripts are Redis's own (gateways'
clocks may disagree). ``captions:sessions:expiry`` scores each open session by when a gateway should look at it
next; it is written when a session opens or ends and when one is looked at, never per frame.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from captions import redis_keys
from captions.protocol import SessionState
from captions.redis_client import RedisClient, Retrying
from captions.roomstate.base import OPEN_STATES, RECHECK_S, STATUS_TURN_S, LiveSession, Presence
from captions.settings import Settings

# Presence renewals in flight at once (a heartbeat renews every room this gateway has clients in).
RENEW_BATCH = 100

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# Ends the session only if it is still the room's: a late "ended" must not end the next session.
_END = """
if redis.call('hget', KEYS[1], 'session_id') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'state', 'ended')
return 1
"""
# Saves the session and says what it was: the expiry set changes only when that changes.
_SAVE = """
local was = redis.call('hmget', KEYS[1], 'session_id', 'state')
redis.call('hset', KEYS[1], unpack(ARGV))
return was
"""
_SHARE = (
    _NOW_MS
    + """
if redis.call('exists', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('hset', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + ttl))
redis.call('pexpire', KEYS[1], ttl)
return 1
"""
)
# Shares past their time (a gateway that died) are dropped as they are read.
_PRESENCE = (
    _NOW_MS
    + """
local shares = redis.call('hgetall', KEYS[1])
local presenter, viewers = 0, 0
for i = 1, #shares, 2 do
  local has, count, expires = string.match(shares[i + 1], '^(%d):(%d+):(%d+)$')
  if has and tonumber(expires) > now then
    if has == '1' then presenter = 1 end
    viewers = viewers + tonumber(count)
  else
    redis.call('hdel', KEYS[1], shares[i])
  end
end
return {presenter, viewers}
"""
)
# A turn in its last millisecond has a PTTL of 0: still taken, never 0 (which would mean "yours").
_CLAIM_STATUS = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return math.max(1, redis.call('pttl', KEYS[1]))
"""
# Unless another gateway took the turn meanwhile (this one was slower than STATUS_TURN_S).
_STATUS_SENT = """
local holder = redis.call('get', KEYS[1])
if not holder or holder == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
"""
# Each due room is given to one caller: its next look is pushed ARGV[2] ahead at once.
_DUE = """
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, room in ipairs(due) do redis.call('zadd', KEYS[1], ARGV[2], room) end
return due
"""


class RedisRoomState:
    def __init__(self, client: RedisClient, name: str, settings: Settings, retrying: Retrying) -> None:
        # redis-py annotates its commands for sync and async clients at once (``Awaitable[T] | T``).
        self._redis: Any = client
        self._name = name
        self._ttl_ms = max(1000, round(settings.presence_ttl_s * 1000))
        self._deleted_ms = round(settings.redis_events_age_s * 1000)  # as long as the deletion event is kept
        self._timeout = settings.presenter_timeout_s
        self._retrying = retrying
        self._end = client.register_script(_END)
        self._save = client.register_script(_SAVE)
        self._share = client.register_script(_SHARE)
        self._read_presence = client.register_script(_PRESENCE)
        self._claim_status = client.register_script(_CLAIM_STATUS)
        self._status_sent = client.register_script(_STATUS_SENT)
        self._due = client.register_script(_DUE)
        self._shares: dict[str, str] = {}  # this gateway's share of each room it has clients in

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
            paused_at=float(fields.get(b"paused_at", b"0")),
            parked=fields.get(b"parked") == b"1",
            held_by=fields.get(b"held_by", b"").decode(),
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
            "paused_at": repr(session.paused_at),
            "parked": int(session.parked),
            "held_by": session.held_by,
        }

        args: list[str | int] = [item for pair in fields.items() for item in pair]
        was_id, was_state = await self._retrying(
            "save a live session", lambda: self._save(keys=[redis_keys.session(room_id)], args=args)
        )
        was_open = (
            was_id is not None and was_id.decode() == session.session_id and was_state.decode() in OPEN_STATES
        )
        if session.open and not was_open:
            look_at = session.last_activity + self._timeout
            await self._retrying(
                "list open sessions", lambda: self._redis.zadd(redis_keys.EXPIRY, {room_id: look_at})
            )
        elif was_open and not session.open:
            await self._retrying("list open sessions", lambda: self._redis.zrem(redis_keys.EXPIRY, room_id))

    async def end_session(self, room_id: str, session_id: str) -> bool:
        ended = await self._retrying(
            "end a session", lambda: self._end(keys=[redis_keys.session(room_id)], args=[session_id])
        )
        if ended:
            await self._retrying("list open sessions", lambda: self._redis.zrem(redis_keys.EXPIRY, room_id))
        return bool(ended)

    async def due_rooms(self, limit: int) -> list[str]:
        moment = time.time()
        due = await self._retrying(
            "look for sessions due",
            lambda: self._due(keys=[redis_keys.EXPIRY], args=[moment, moment + RECHECK_S, limit]),
        )
        return [room.decode() for room in due]

    async def recheck(self, room_id: str, at: float) -> None:
        await self._retrying(
            "list open sessions", lambda: self._redis.zadd(redis_keys.EXPIRY, {room_id: at}, xx=True)
        )

    async def claim_status(self, room_id: str) -> float:
        turn_ms = round(STATUS_TURN_S * 1000)
        left_ms = await self._retrying(
            "throttle statuses",
            lambda: self._claim_status(keys=[redis_keys.status(room_id)], args=[self._name, turn_ms]),
        )
        return max(0.0, int(left_ms) / 1000)

    async def status_sent(self, room_id: str, hold_s: float) -> None:
        hold_ms = max(1, round(hold_s * 1000))
        await self._retrying(
            "throttle statuses",
            lambda: self._status_sent(keys=[redis_keys.status(room_id)], args=[self._name, hold_ms]),
        )

    async def set_presence(self, room_id: str, presenter: bool, viewers: int) -> None:
        if presenter or viewers:
            self._shares[room_id] = share = f"{int(presenter)}:{viewers}"
            await self._retrying("count viewers", lambda: self._send_share(room_id, share))
        else:
            self._shares.pop(room_id, None)
            key = redis_keys.presence(room_id)
            await self._retrying("count viewers", lambda: self._redis.hdel(key, self._name))

    async def _send_share(self, room_id: str, share: str) -> None:
        keys = [redis_keys.presence(room_id), redis_keys.deleted(room_id)]
        await self._share(keys=keys, args=[self._name, share, self._ttl_ms])

    async def presence(self, room_id: str) -> Presence:
        presenter, viewers = await self._retrying(
            "read presence", lambda: self._read_presence(keys=[redis_keys.presence(room_id)], args=[])
        )
        return Presence(bool(presenter), int(viewers))

    async def forget(self, room_id: str) -> None:
        self._shares.pop(room_id, None)

        async def forget() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(redis_keys.deleted(room_id), 1, px=self._deleted_ms)
                pipe.delete(redis_keys.session(room_id), redis_keys.presence(room_id))
                await pipe.execute()
            await self._redis.zrem(redis_keys.EXPIRY, room_id)

        await self._retrying("forget a room", forget)

    async def heartbeat(self) -> None:
        """Renews this gateway's share of each room it has clients in: work in proportion to those rooms. Not
        retried: the next heartbeat is the retry."""
        shares = list(self._shares.items())
        for first in range(0, len(shares), RENEW_BATCH):
            batch = shares[first : first + RENEW_BATCH]
            await asyncio.gather(*(self._send_share(room_id, share) for room_id, share in batch))

    async def close(self) -> None:
        """Its shares go at once (a gateway that is killed cannot: they expire)."""
        for room_id in list(self._shares):
            await self._redis.hdel(redis_keys.presence(room_id), self._name)
        self._shares.clear()

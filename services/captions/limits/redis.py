"""Limits of the scale-out deployment, in Redis: every gateway counts against the same buckets and slots.

Buckets are hashes that expire once full again; slots are sorted sets of holders scored by when the hold
expires, renewed by the holding process (a gateway killed for real frees its slots within ``ttl_s``). Time is
Redis's own, so gateways with skewed clocks agree. Redis unavailable: each process enforces the same limits
in its own memory meanwhile (per process, so up to N times looser with N gateways), rather than refusing every
client or letting everything through; the outage is logged once, not per request.
"""

from __future__ import annotations

import logging
from typing import Any

from captions.limits.memory import MemoryLimiter
from captions.redis_client import UNAVAILABLE, RedisClient

log = logging.getLogger(__name__)
PREFIX = "captions:limit:"

# A token bucket as a Lua function, so that a write that must be within a limit (a room's audio) can take from
# the bucket and be made in one script: one round trip.
BUCKET_LUA = """
local function take(key, rate, burst, amount)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local kept = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(kept[1]) or burst
  local at = tonumber(kept[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  local wait = 0
  if tokens >= amount then tokens = tokens - amount else wait = (amount - tokens) / rate end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
  return wait
end
"""
_TAKE = (
    BUCKET_LUA
    + """
return tostring(take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])))
"""
)
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""
# Holders are ``process/holder``: whichever process it was.
_RELEASE_ANYWHERE = """
local suffix = '/' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -#suffix) == suffix then redis.call('ZREM', KEYS[1], member) end
end
return 1
"""
# One key a call (on a cluster, different addresses' slot sets live in different slots), all its holders here.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""


class RedisLimiter:
    def __init__(self, client: RedisClient, name: str, ttl_s: float) -> None:
        self._redis: Any = client
        self._name = name  # holders are this process's: ``name/holder``
        self._ttl_ms = max(1000, round(ttl_s * 1000))
        self._take = client.register_script(_TAKE)
        self._hold = client.register_script(_HOLD)
        self._renew = client.register_script(_RENEW)
        self._release_anywhere = client.register_script(_RELEASE_ANYWHERE)
        self._held: set[tuple[str, str]] = set()
        self._meanwhile = MemoryLimiter()  # while Redis is unavailable
        self._unavailable = False

    async def take(self, key: str, rate: float, burst: float, amount: float = 1.0) -> float:
        try:
            wait = await self._take(keys=[PREFIX + key], args=[rate, burst, amount])
        except UNAVAILABLE as error:
            self._outage(error)
            return await self._meanwhile.take(key, rate, burst, amount)
        self._back()
        return float(wait)

    async def hold(self, key: str, holder: str, limit: int) -> bool:
        member = f"{self._name}/{holder}"
        try:
            held = bool(await self._hold(keys=[PREFIX + key], args=[member, limit, self._ttl_ms]))
        except UNAVAILABLE as error:
            self._outage(error)
            return await self._meanwhile.hold(key, holder, limit)
        self._back()
        if held:
            self._held.add((key, holder))
        return held

    async def release(self, key: str, holder: str) -> None:
        self._held.discard((key, holder))
        await self._meanwhile.release(key, holder)
        try:
            await self._redis.zrem(PREFIX + key, f"{self._name}/{holder}")
        except UNAVAILABLE as error:
            self._outage(error)  # the slot expires

    async def release_anywhere(self, key: str, holder: str) -> None:
        self._held.discard((key, holder))
        await self._meanwhile.release(key, holder)
        try:
            await self._release_anywhere(keys=[PREFIX + key], args=[holder])
        except UNAVAILABLE as error:
            self._outage(error)  # the slot expires

    def _outage(self, error: Exception) -> None:
        if not self._unavailable:
            self._unavailable = True
            log.warning(
                "limits: Redis unavailable (%s); this process enforces them on its own meanwhile", error
            )

    def _back(self) -> None:
        if self._unavailable:
            self._unavailable = False
            log.warning("limits: Redis is back; limits are shared again")

    async def refresh(self) -> None:
        by_key: dict[str, list[str]] = {}
        for key, holder in self._held:
            by_key.setdefault(key, []).append(f"{self._name}/{holder}")
        for key, members in by_key.items():
            for start in range(0, len(members), 500):
                await self._renew(keys=[PREFIX + key], args=[self._ttl_ms, *members[start : start + 500]])

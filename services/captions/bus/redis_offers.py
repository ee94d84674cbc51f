"""How a new session's room finds its transcriber on Redis, at once and to the least loaded one.

- The gateway offers the room: it joins ``captions:rooms`` (where transcribers also look every
  ``claim_interval_s``) and is announced on the pub/sub channel ``captions:offers``. Pub/sub is a wake-up only:
  an offer lost while Redis restarts is found by the next look.
- Each transcriber keeps its load (rooms owned) in the sorted set ``captions:load`` and its liveness in
  ``captions:alive:{name}`` (expiring after ``lease_s``). Before it claims a room it waits ``CLAIM_STAGGER_S``
  for each live transcriber less loaded than itself, so the least loaded takes it at once and the next one only
  if that one does not (it died, or reached its limit).
- The transcriber that took the room pushes to ``captions:admitted:{room}``, where the gateway waits (BLPOP).

A session then starts within a few round trips, not two polling intervals and a wait per room owned.
"""

from __future__ import annotations

from typing import Any

OFFERS = "captions:offers"
LOAD = "captions:load"
# Long enough that the least loaded transcriber's claim lands first, short enough not to be felt when it is
# gone: the next one then takes the room this much later.
CLAIM_STAGGER_S = 0.05


def admitted_key(room_id: str) -> str:
    return f"captions:admitted:{room_id}"


def alive_key(name: str) -> str:
    return f"captions:alive:{name}"


async def offer(redis: Any, rooms_key: str, room_id: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(admitted_key(room_id))  # an answer to an earlier offer
        pipe.sadd(rooms_key, room_id)
        pipe.publish(OFFERS, room_id)
        await pipe.execute()


async def answer(redis: Any, room_id: str, name: str, keep_ms: int) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(admitted_key(room_id), name)
        pipe.pexpire(admitted_key(room_id), keep_ms)
        await pipe.execute()


async def wait_for_answer(redis: Any, room_id: str, timeout_s: float) -> bool:
    return bool(await redis.blpop([admitted_key(room_id)], timeout=timeout_s))


class LoadBoard:
    """One transcriber's entry on the board of loads."""

    def __init__(self, redis: Any, name: str, alive_ms: int) -> None:
        self._redis = redis
        self._name = name
        self._alive_ms = alive_ms

    async def announce(self, rooms: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(LOAD, {self._name: rooms})
            pipe.set(alive_key(self._name), 1, px=self._alive_ms)
            await pipe.execute()

    async def rank(self, rooms: int) -> int:
        """How many live transcribers come before this one for a new room (fewer rooms; ties by name). Dead
        ones leave the board."""
        loads: list[tuple[bytes, float]] = await self._redis.zrange(LOAD, 0, -1, withscores=True)
        alive = await self._redis.mget([alive_key(name.decode()) for name, _ in loads]) if loads else []
        mine = (float(rooms), self._name)
        ahead, dead = 0, []
        for (raw, load), up in zip(loads, alive, strict=True):
            name = raw.decode()
            if up is None:
                dead.append(name)
            elif name != self._name and (load, name) < mine:
                ahead += 1
        if dead:
            await self._redis.zrem(LOAD, *dead)
        return ahead

    async def leave(self) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(LOAD, self._name)
            pipe.delete(alive_key(self._name))
            await pipe.execute()

"""How a room finds its transcriber on Redis, at once and to the least loaded one, with work that grows with the
rooms waiting and the transcribers alive, never with all rooms.

- A gateway starting a session offers the room: it joins ``captions:unowned`` and is announced on the sharded
  channel ``captions:offers`` (a wake-up only: an offer lost while Redis fails over is found by the next look,
  every ``claim_interval_s``, in ``captions:unowned``).
- Each transcriber keeps its load (rooms owned) in the sorted set ``captions:load``, its liveness in
  ``captions:alive:{name}`` (expiring after ``lease_s``) and its rooms in ``captions:owned:{name}``. Each
  transcriber reads the board every third of ``lease_s`` (when it renews its leases); one that finds another one
  dead puts the dead one's rooms back in ``captions:unowned``. A look for waiting rooms is one SMEMBERS.
- Before it claims a room a transcriber waits ``CLAIM_STAGGER_S`` for each live transcriber less loaded than
  itself, so the least loaded takes it at once and the next one only if that one does not.
- Taking a room is ``SET NX`` of its lease, then ``SREM`` from ``captions:unowned``: whoever removes it (the
  taker, or the gateway withdrawing an offer nobody took in time) decides, so a room is never left taken by a
  transcriber whose gateway gave up on it.
- The taker pushes to ``captions:{room}:admitted``, where the gateway waits (BLPOP).

Every key here is written when a room changes hands or a transcriber comes or goes, never per audio frame.
"""

from __future__ import annotations

from typing import Any

from captions import redis_keys

# Long enough that the least loaded transcriber's claim lands first, short enough not to be felt when it is
# gone: the next one then takes the room this much later.
CLAIM_STAGGER_S = 0.05


async def offer(redis: Any, room_id: str) -> None:
    await redis.delete(redis_keys.admitted(room_id))  # an answer to an earlier offer
    await redis.sadd(redis_keys.UNOWNED, room_id)
    await redis.spublish(redis_keys.OFFERS, room_id)


async def answer(redis: Any, room_id: str, name: str, keep_ms: int) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.rpush(redis_keys.admitted(room_id), name)
        pipe.pexpire(redis_keys.admitted(room_id), keep_ms)
        await pipe.execute()


async def wait_for_answer(redis: Any, room_id: str, timeout_s: float) -> bool:
    return bool(await redis.blpop([redis_keys.admitted(room_id)], timeout=timeout_s))


class LoadBoard:
    """One transcriber's entry on the board of loads, and what it does for the dead ones."""

    def __init__(self, redis: Any, name: str, alive_ms: int) -> None:
        self._redis = redis
        self._name = name
        self._alive_ms = alive_ms

    async def announce(self, rooms: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(redis_keys.LOAD, {self._name: rooms})
            pipe.set(redis_keys.alive(self._name), 1, px=self._alive_ms)
            await pipe.execute()

    async def living(self) -> tuple[list[tuple[str, float]], list[str]]:
        """The live transcribers with their loads, and the dead ones still on the board."""
        loads: list[tuple[bytes, float]] = await self._redis.zrange(redis_keys.LOAD, 0, -1, withscores=True)
        names = [raw.decode() for raw, _ in loads]
        async with self._redis.pipeline(transaction=False) as pipe:  # one key per slot: no MGET on a cluster
            for name in names:
                pipe.exists(redis_keys.alive(name))
            up = await pipe.execute() if names else []
        alive = [(name, load) for (name, (_, load), there) in zip(names, loads, up, strict=True) if there]
        return alive, [name for name, there in zip(names, up, strict=True) if not there]

    def rank(self, alive: list[tuple[str, float]], rooms: int) -> int:
        """How many live transcribers come before this one for a new room (fewer rooms; ties by name)."""
        mine = (float(rooms), self._name)
        return sum(1 for name, load in alive if name != self._name and (load, name) < mine)

    async def orphan_rooms_of(self, dead: str) -> list[str]:
        """A dead transcriber's rooms go back to ``unowned`` (their leases expire with it) and it leaves the board."""
        rooms = [room.decode() for room in await self._redis.smembers(redis_keys.owned(dead))]
        if rooms:
            await self._redis.sadd(redis_keys.UNOWNED, *rooms)
        await self._redis.delete(redis_keys.owned(dead))
        await self._redis.zrem(redis_keys.LOAD, dead)
        return rooms

    async def leave(self) -> None:
        await self._redis.zrem(redis_keys.LOAD, self._name)
        await self._redis.delete(redis_keys.alive(self._name))

"""Room input on Redis: audio and control from gateways to the transcriber that owns the room.

One stream per room (``captions:{ROOM}:audio``), read by transcribers through the consumer group
``transcribers``. A transcriber owns a room while it holds the room's lease (``captions:{ROOM}:lease``, SET NX
PX, renewed every third of its life). Every key of a room is in the room's slot (``redis_keys``), so each atomic
block (``redis_input_scripts.py``) is single-slot on a Redis Cluster. It acknowledges (and deletes) an entry only
once the entry's audio is settled, i.e. transcribed and its finals stored, so the pending entries are exactly
what a transcriber taking the room over must re-read (XAUTOCLAIM). Each entry carries its session time (``at``), so the new owner's
clock continues where the old one's stopped. An audio frame costs its gateway one script (the room's audio
budget, then the XADD: one round trip) and touches no global key; rooms change hands through ``redis_offers.py``.
Nothing is trimmed: ``captions:{ROOM}:backlog`` counts the bytes in the stream (added by the sender, taken off by
the acknowledger), and audio past ``room_backlog_mb`` is refused (``InputsBacklogged``): its presenter keeps it
and sends it again.

Redis must keep its data across restarts (``appendonly yes``): streams and leases are the state of live rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from redis.exceptions import ResponseError

from captions import redis_keys
from captions.bus import redis_input_scripts as scripts
from captions.bus.inputs import InputKind, InputsBacklogged, InputsUnavailable, RoomInput
from captions.bus.redis_offers import CLAIM_STAGGER_S, LoadBoard, answer, offer, wait_for_answer
from captions.bus.redis_subscriber import ShardedSubscriber
from captions.limits.base import Budget
from captions.limits.redis import PREFIX as LIMIT_PREFIX
from captions.redis_client import BLOCK_MS, RETRY_PAUSE_S, UNAVAILABLE, RedisClient, Retrying, stream_id
from captions.settings import Settings

log = logging.getLogger(__name__)

GROUP = "transcribers"
READ_COUNT = 200
# Inputs read from Redis and not yet taken by the transcriber at most: past it, room readers wait and the
# input stays in Redis (bounded there by ``room_backlog_mb``).
MAX_QUEUED_INPUTS = 10_000


@dataclass
class _Delivered:
    entry_id: bytes
    session_id: str
    end: float  # session seconds at the end of the entry's audio
    audio: bool
    size: int  # what it counts in the room's backlog


@dataclass
class _OwnedRoom:
    room_id: str
    reader: asyncio.Task[None] | None = None
    delivered: deque[_Delivered] = field(default_factory=deque)
    last_id: bytes = b"0-0"


class RedisRoomInputs:
    def __init__(self, client: RedisClient, settings: Settings, name: str, retrying: Retrying) -> None:
        # redis-py annotates its commands for sync and async clients at once (``Awaitable[T] | T``).
        self._redis: Any = client
        self._settings = settings
        self.name = name
        self._owned: dict[str, _OwnedRoom] = {}
        self._inputs: asyncio.Queue[RoomInput | None] = asyncio.Queue(maxsize=MAX_QUEUED_INPUTS)
        self._tasks: list[asyncio.Task[None]] = []
        self._retrying = retrying
        self._send_within = client.register_script(scripts.SEND_WITHIN)
        self._send = client.register_script(scripts.SEND)
        self._renew = client.register_script(scripts.RENEW)
        self._forget = client.register_script(scripts.FORGET_IF_EMPTY)
        self._acknowledge_script = client.register_script(scripts.ACKNOWLEDGE)
        self._release = client.register_script(scripts.RELEASE)
        self._withdraw = client.register_script(scripts.WITHDRAW_IF_UNOWNED)
        self._board = LoadBoard(client, name, round(settings.lease_s * 1000))
        self._closed = False

    @property
    def owned_rooms(self) -> list[str]:
        return list(self._owned)

    # --- gateway side --------------------------------------------------------------------------------

    async def send_input(self, message: RoomInput) -> None:
        key, encoded = redis_keys.audio(message.room_id), _encode_input(message)
        if (
            message.kind == "delete"
        ):  # sent after the room's state was forgotten: its owner must still be told
            await self._retrying("send room input", lambda: self._redis.xadd(key, encoded))
            return
        keys = [key, redis_keys.deleted(message.room_id), redis_keys.backlog(message.room_id)]
        args = [message.size, *(item for pair in encoded.items() for item in pair)]
        await self._retrying("send room input", lambda: self._send(keys=keys, args=args))

    async def send_within(self, message: RoomInput, budget: Budget) -> float:
        fields = [item for pair in _encode_input(message).items() for item in pair]
        limit = self._settings.room_backlog_bytes
        args = [budget.rate, budget.burst, budget.amount, limit, message.size, *fields]
        room_id = message.room_id
        keys = [
            LIMIT_PREFIX + budget.key,
            redis_keys.audio(room_id),
            redis_keys.deleted(room_id),
            redis_keys.backlog(room_id),
        ]
        try:
            wait = await self._retrying("send room input", lambda: self._send_within(keys=keys, args=args))
        except UNAVAILABLE as error:
            raise InputsUnavailable(str(error)) from error
        if wait == b"backlogged":
            raise InputsBacklogged(room_id)
        return float(wait)

    async def admit(self, room_id: str) -> bool:
        lease = redis_keys.lease(room_id)
        if await self._retrying("look for the room's transcriber", lambda: self._owner_of(room_id)):
            return True
        await self._retrying("offer the room to transcribers", lambda: offer(self._redis, room_id))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.admission_wait_s
        while (left := deadline - loop.time()) > 0:
            waiting = functools.partial(wait_for_answer, self._redis, room_id, min(left, BLOCK_MS / 1000))
            if await self._retrying("wait for the room's transcriber", waiting):
                return True
            # Taken by a periodic look before the offer (its answer went with the earlier one).
            if await self._retrying("look for the room's transcriber", lambda: self._owner_of(room_id)):
                return True
        taken = await self._retrying(
            "withdraw the room",
            lambda: self._withdraw(
                keys=[lease, redis_keys.audio(room_id), redis_keys.backlog(room_id)], args=[]
            ),
        )
        if taken:
            return True
        # Whoever removes the offer decides: a transcriber that took the room just now removed it first.
        withdrawn = await self._retrying(
            "withdraw the room", lambda: self._redis.srem(redis_keys.UNOWNED, room_id)
        )
        return not withdrawn

    async def _owner_of(self, room_id: str) -> str | None:
        """The transcriber that holds the room's lease and counts the room as its own. A lease alone is not
        enough: one its holder no longer renews (it let the room go just now) must not stand for an owner, or
        the room would be sent input that nobody reads."""
        holder = await self._redis.get(redis_keys.lease(room_id))
        if holder is None or not await self._redis.sismember(redis_keys.owned(holder.decode()), room_id):
            return None
        return str(holder.decode())

    # --- transcriber side ----------------------------------------------------------------------------

    async def inputs(self) -> AsyncIterator[RoomInput]:
        # A transcriber started again under its name (a fixed instance name) after it died: the rooms it owned
        # then are nobody's now, and nobody else would offer them (its name looks alive again).
        earlier_life = functools.partial(self._board.orphan_rooms_of, self.name)
        if rooms := await self._retrying("offer the rooms of an earlier life", earlier_life):
            log.info(
                "%s: the rooms it had before it was started again are offered: %d", self.name, len(rooms)
            )
        self._tasks += [asyncio.create_task(self._claim_rooms()), asyncio.create_task(self._renew_leases())]
        while (message := await self._inputs.get()) is not None:
            yield message

    async def settled(self, room_id: str, session_id: str, seconds: float) -> None:
        owned = self._owned.get(room_id)
        if owned is None:
            return
        done: list[_Delivered] = []
        while owned.delivered and (
            owned.delivered[0].session_id != session_id or owned.delivered[0].end <= seconds + 1e-6
        ):
            done.append(owned.delivered.popleft())
        if done:
            await self._acknowledge(room_id, done)

    async def handled(self, message: RoomInput) -> None:
        owned = self._owned.get(message.room_id)
        if owned is None or not message.entry_id:
            return
        through = stream_id(message.entry_id)
        done: list[_Delivered] = []
        while owned.delivered and not owned.delivered[0].audio:
            if stream_id(owned.delivered[0].entry_id) > through:
                break
            done.append(owned.delivered.popleft())
        if done:
            await self._acknowledge(message.room_id, done)

    async def owns(self, room_id: str) -> bool:
        if room_id not in self._owned:
            return False
        lease = redis_keys.lease(room_id)
        holder = await self._retrying("look at the room's lease", lambda: self._redis.get(lease))
        # A lease that expired with nobody taking it is still this transcriber's: its next renewal makes it again.
        return holder is None or bool(holder.decode() == self.name)

    async def finished(self, room_id: str, session_id: str) -> None:
        await self.settled(room_id, session_id, math.inf)
        owned = self._owned.get(room_id)
        if owned is None or owned.delivered:
            return
        forgotten = await self._retrying(
            "forget a finished room",
            lambda: self._forget(
                keys=[redis_keys.audio(room_id), redis_keys.lease(room_id), redis_keys.backlog(room_id)],
                args=[self.name],
            ),
        )
        if forgotten:
            self._drop(room_id)
            await self._disown(room_id)

    async def forget(self, room_id: str) -> None:
        self._drop(room_id)

        async def forget() -> None:
            await self._redis.delete(
                redis_keys.audio(room_id), redis_keys.lease(room_id), redis_keys.backlog(room_id)
            )
            await self._redis.srem(redis_keys.UNOWNED, room_id)

        await self._retrying("forget a deleted room", forget)
        await self._disown(room_id)

    async def _disown(self, room_id: str) -> None:
        await self._retrying(
            "update the rooms owned", lambda: self._redis.srem(redis_keys.owned(self.name), room_id)
        )

    async def _acknowledge(self, room_id: str, entries: list[_Delivered]) -> None:
        keys = [redis_keys.audio(room_id), redis_keys.backlog(room_id)]
        args: list[bytes | int] = [*(entry.entry_id for entry in entries), *(entry.size for entry in entries)]
        await self._retrying(
            "acknowledge settled audio", lambda: self._acknowledge_script(keys=keys, args=args)
        )

    async def _claim_rooms(self) -> None:
        """Look for rooms waiting for a transcriber every ``claim_interval_s``, and at once when one is offered."""
        offered = asyncio.Event()

        async def wake(channel: str, data: bytes) -> None:
            offered.set()

        async def resubscribed(channel: str) -> None:
            offered.set()  # an offer may have been lost meanwhile

        offers = ShardedSubscriber(self._redis, wake, resubscribed)
        try:
            while not self._closed:
                try:
                    if not offers.channels:
                        await offers.subscribe(redis_keys.OFFERS)
                        await self._board.announce(len(self._owned))
                    offered.clear()
                    await self._claim_unowned()
                except UNAVAILABLE as error:
                    log.warning("claiming rooms: Redis unavailable (%s)", error)
                except Exception:  # the next look tries again: a transcriber that stops looking takes no room
                    log.exception("%s: looking for rooms failed", self.name)
                # Any offer is a reason to look; several at once are answered by one look.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(offered.wait(), self._settings.claim_interval_s)
        finally:
            await offers.close()

    async def _claim_unowned(self) -> None:
        # One command a look while no room waits: the board is read only when there is something to share.
        waiting = sorted(room.decode() for room in await self._redis.smembers(redis_keys.UNOWNED))
        if not waiting:
            return
        alive, _ = await self._board.living()
        living = {name for name, _ in alive} | {self.name}
        lease_ms = round(self._settings.lease_s * 1000)
        for room_id in waiting:
            if room_id in self._owned:
                continue
            limit = self._settings.max_rooms
            if limit and len(self._owned) >= limit:
                break
            await asyncio.sleep(CLAIM_STAGGER_S * self._board.rank(alive, len(self._owned)))
            if not await self._redis.set(redis_keys.lease(room_id), self.name, nx=True, px=lease_ms):
                if await self._owner_of(room_id) in living:
                    await self._redis.srem(redis_keys.UNOWNED, room_id)  # a living transcriber has it
                # Else the lease goes within ``lease_s`` (nobody renews it), and the room is taken then.
                continue
            if not await self._redis.srem(redis_keys.UNOWNED, room_id):
                # Withdrawn by its gateway (nobody came in time), or taken and released meanwhile.
                await self._release(keys=[redis_keys.lease(room_id)], args=[self.name])
                continue
            log.info("%s: took room %s", self.name, room_id)
            await self._redis.sadd(redis_keys.owned(self.name), room_id)
            owned = self._owned[room_id] = _OwnedRoom(room_id)
            owned.reader = asyncio.create_task(self._read_room(owned))
            await self._board.announce(len(self._owned))
            await answer(self._redis, room_id, self.name, round(self._settings.admission_wait_s * 1000))

    async def _renew_leases(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._settings.lease_s / 3)
            # An unexpected error is logged and the next round tries again: a transcriber that stopped renewing
            # would lose every room.
            try:
                with contextlib.suppress(*UNAVAILABLE):
                    await self._board.announce(len(self._owned))
                    await self._offer_rooms_of_the_dead()
                await self._renew_all()
            except Exception:
                log.exception("%s: renewing leases failed", self.name)

    async def _renew_all(self) -> None:
        lease_ms = round(self._settings.lease_s * 1000)
        kept_rooms: list[str] = []
        for room_id in list(self._owned):
            if room_id not in self._owned:
                continue  # let go of meanwhile
            keys = [redis_keys.lease(room_id), redis_keys.audio(room_id)]
            try:
                kept = await self._renew(keys=keys, args=[self.name, lease_ms])
                if kept and room_id not in self._owned:  # let go of while the renewal was on its way
                    await self._release(keys=[redis_keys.lease(room_id)], args=[self.name])
            except UNAVAILABLE as error:
                log.warning("renewing leases: Redis unavailable (%s)", error)
                return
            if room_id not in self._owned:
                continue
            if kept:
                kept_rooms.append(room_id)
            else:
                log.warning("%s: lost the lease of room %s", self.name, room_id)
                self._drop(room_id)
                with contextlib.suppress(*UNAVAILABLE):
                    await self._redis.srem(redis_keys.owned(self.name), room_id)
                await self._inputs.put(RoomInput(room_id, "", "release"))
        if kept_rooms:
            # Listed again: another transcriber that took this one for dead (it stalled past its liveness) and
            # offered its rooms must see that they have an owner.
            with contextlib.suppress(*UNAVAILABLE):
                await self._redis.sadd(redis_keys.owned(self.name), *kept_rooms)

    async def _offer_rooms_of_the_dead(self) -> None:
        """A dead transcriber's leases expire after ``lease_s``; its rooms are put back for the next look."""
        _, dead = await self._board.living()
        for name in dead:
            if rooms := await self._board.orphan_rooms_of(name):
                log.info(
                    "%s: transcriber %s is gone; its rooms are offered again: %d", self.name, name, len(rooms)
                )

    async def _read_room(self, owned: _OwnedRoom) -> None:
        """Read the room's input until the room is let go of. An error nobody expected (redis-py 8.1 leaked an
        AttributeError when a failover closed a connection under a command) is logged and reading starts again:
        a reader that died would leave the room owned and its lease renewed, and its input read by nobody."""
        while owned.room_id in self._owned and not self._closed:
            try:
                await self._read_until_let_go(owned)
                return
            except Exception:
                log.exception("room %s: reading its input failed; reading again", owned.room_id)
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _read_until_let_go(self, owned: _OwnedRoom) -> None:
        key = redis_keys.audio(owned.room_id)
        with contextlib.suppress(ResponseError):  # BUSYGROUP: the group exists
            await self._retrying(
                "create the consumer group", lambda: self._redis.xgroup_create(key, GROUP, "0", mkstream=True)
            )
        # First what an earlier owner was given and never settled, then what nobody has read yet.
        start: bytes | str = "0-0"
        while True:

            async def claim(start: bytes | str = start) -> list[Any]:
                claimed: list[Any] = await self._redis.xautoclaim(
                    key, GROUP, self.name, 0, start, count=READ_COUNT
                )
                return claimed

            next_start, entries, *_ = await self._retrying("claim pending audio", claim)
            await self._deliver(owned, entries)
            if next_start in (b"0-0", "0-0"):
                break
            start = next_start
        while owned.room_id in self._owned and not self._closed:
            try:
                batches = await self._redis.xreadgroup(
                    GROUP, self.name, {key: ">"}, count=READ_COUNT, block=BLOCK_MS
                )
            except UNAVAILABLE as error:
                log.warning("room %s: Redis unavailable (%s); retrying", owned.room_id, error)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            except ResponseError as error:  # the stream was forgotten (and maybe made again since)
                if owned.room_id not in self._owned or self._closed:
                    return
                log.info("room %s: %s; joining the group again", owned.room_id, error)
                with contextlib.suppress(ResponseError):
                    await self._redis.xgroup_create(key, GROUP, "0", mkstream=True)
                continue
            for _, entries in batches or []:
                await self._deliver(owned, entries)

    async def _deliver(self, owned: _OwnedRoom, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        for entry_id, fields in entries:
            if not fields or stream_id(entry_id) <= stream_id(owned.last_id):
                continue  # deleted meanwhile, or given again after Redis lost its last second
            message = _decode_input(owned.room_id, entry_id, fields)
            owned.last_id = entry_id
            audio = message.kind == "audio"
            owned.delivered.append(_Delivered(entry_id, message.session_id, message.end, audio, message.size))
            await self._inputs.put(message)

    def _drop(self, room_id: str) -> None:
        owned = self._owned.pop(room_id, None)
        if owned is not None and owned.reader is not None and owned.reader is not asyncio.current_task():
            owned.reader.cancel()

    async def close(self) -> None:
        """Stop; rooms still owned are handed over at once (their unsettled audio stays pending)."""
        self._closed = True
        self._retrying.give_up()
        handed_over = list(self._owned)
        for room_id in handed_over:
            self._drop(room_id)
            with contextlib.suppress(*UNAVAILABLE):
                await self._release(keys=[redis_keys.lease(room_id)], args=[self.name])
        if self._tasks:  # it read rooms: its rooms are offered to the others at once, and it leaves the board
            with contextlib.suppress(*UNAVAILABLE):
                await self._board.orphan_rooms_of(self.name)
                for room_id in handed_over:
                    await self._redis.spublish(redis_keys.OFFERS, room_id)
                await self._board.leave()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while self._inputs.full():  # nobody reads any more: the end marker must fit
            self._inputs.get_nowait()
        self._inputs.put_nowait(None)


def _encode_input(message: RoomInput) -> dict[str, Any]:
    return {
        "session": message.session_id,
        "kind": message.kind,
        "seq": message.seq,
        "pcm": message.pcm,
        "text": message.text,
        "final": int(message.final),
        "language": message.language,
        "at": repr(message.at),
    }


def _decode_input(room_id: str, entry_id: bytes, fields: dict[bytes, bytes]) -> RoomInput:
    return RoomInput(
        entry_id=entry_id.decode(),
        room_id=room_id,
        session_id=fields[b"session"].decode(),
        kind=cast(InputKind, fields[b"kind"].decode()),
        seq=int(fields[b"seq"]),
        pcm=fields[b"pcm"],
        text=fields[b"text"].decode(),
        final=fields[b"final"] == b"1",
        language=fields[b"language"].decode(),
        at=float(fields[b"at"]),
    )

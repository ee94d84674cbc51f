"""The in-process bus of the one-process mode: queues, nothing else. The one transcriber owns every room and
dies with the gateway, so nothing needs resuming from here (a restarted server asks the presenter to resend
what was not settled)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

from captions.bus.backlog import Backlogs
from captions.bus.events import RoomEvent
from captions.bus.inputs import InputsBacklogged, RoomInput
from captions.limits.base import Budget, Limiter
from captions.limits.memory import MemoryLimiter

_CLOSED = None


# Inputs waiting for the transcriber at most; past it, senders wait (their frames stay with the presenter).
MAX_QUEUED_INPUTS = 10_000


class MemoryRoomInputs:
    """``max_rooms``: rooms the one transcriber takes at once (0: no limit). ``limiter``: the process's, where
    budgets are taken. ``backlog_bytes``: input of a room not settled yet, at most (0: no limit)."""

    def __init__(self, max_rooms: int = 0, limiter: Limiter | None = None, backlog_bytes: int = 0) -> None:
        self._limiter = limiter or MemoryLimiter()
        self._inputs: asyncio.Queue[RoomInput | None] = asyncio.Queue(maxsize=MAX_QUEUED_INPUTS)
        self._max_rooms = max_rooms
        self._rooms: set[str] = set()
        self._backlogs = Backlogs(backlog_bytes)

    async def send_input(self, message: RoomInput) -> None:
        await self._inputs.put(self._backlogs.add(message))

    async def send_within(self, message: RoomInput, budget: Budget) -> float:
        if self._backlogs.full(message):
            raise InputsBacklogged(message.room_id)
        wait = await self._limiter.take(budget.key, budget.rate, budget.burst, budget.amount)
        if not wait:
            await self._inputs.put(self._backlogs.add(message))
        return wait

    async def admit(self, room_id: str) -> bool:
        if room_id not in self._rooms and self._max_rooms and len(self._rooms) >= self._max_rooms:
            return False
        self._rooms.add(room_id)
        return True

    async def inputs(self) -> AsyncIterator[RoomInput]:
        while (message := await self._inputs.get()) is not _CLOSED:
            yield message

    async def settled(self, room_id: str, session_id: str, seconds: float) -> None:
        self._backlogs.settled(room_id, session_id, seconds)

    async def handled(self, message: RoomInput) -> None:
        self._backlogs.handled(message)

    async def owns(self, room_id: str) -> bool:
        return True  # one process, one transcriber: nobody else can take a room

    async def finished(self, room_id: str, session_id: str) -> None:
        self._backlogs.settled(room_id, session_id, math.inf)
        self._rooms.discard(room_id)

    async def forget(self, room_id: str) -> None:
        self._backlogs.forget(room_id)
        self._rooms.discard(room_id)

    async def close(self) -> None:
        self._inputs.put_nowait(_CLOSED)


class MemoryRoomEvents:
    """The one gateway's events: a room's are kept only while it is subscribed."""

    def __init__(self) -> None:
        self._rooms: set[str] = set()
        self._subscribers: list[asyncio.Queue[RoomEvent | None]] = []

    @property
    def subscribed(self) -> frozenset[str]:
        return frozenset(self._rooms)

    async def publish(self, event: RoomEvent) -> None:
        if event.room_id in self._rooms:
            for queue in self._subscribers:
                queue.put_nowait(event)

    async def subscribe(self, room_id: str) -> None:
        self._rooms.add(room_id)

    async def unsubscribe(self, room_id: str) -> None:
        self._rooms.discard(room_id)

    def events(self) -> AsyncIterator[RoomEvent]:
        """Listening at once: every event of a subscribed room published after this call is delivered."""
        queue: asyncio.Queue[RoomEvent | None] = asyncio.Queue()
        self._subscribers.append(queue)

        async def delivered() -> AsyncIterator[RoomEvent]:
            try:
                while (event := await queue.get()) is not _CLOSED:
                    yield event
            finally:
                self._subscribers.remove(queue)

        return delivered()

    async def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(_CLOSED)

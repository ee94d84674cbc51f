"""One lane per room: a room's input is handled in order, and no room waits for another.

A lane's queue is bounded by its source, not here: the bus lets a room have at most
``CAPTIONS_ROOM_BACKLOG_MB`` of input that is not settled yet (the presenter is asked to send the rest again
later), and this queue holds only input taken from the bus and not handled yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from captions.bus.inputs import RoomInput

# The room is gone from this transcriber: what is queued for it is dropped, and whatever its lane is stuck on (a
# full recogniser, a store write being retried) is cancelled.
PREEMPTING = ("release", "delete")


class RoomLanes:
    def __init__(self, handle: Callable[[RoomInput], Awaitable[None]]) -> None:
        self._handle = handle
        self._queues: dict[str, asyncio.Queue[RoomInput]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def take(self, message: RoomInput) -> None:
        """Queue ``message`` in its room's lane (started if the room has none); never waits."""
        room_id = message.room_id
        stuck: asyncio.Task[None] | None = None
        if message.kind in PREEMPTING and room_id in self._tasks:
            stuck = self._tasks.pop(room_id)
            stuck.cancel()
            del self._queues[room_id]
        queue = self._queues.get(room_id)
        if queue is None:
            queue = self._queues[room_id] = asyncio.Queue()
            self._tasks[room_id] = asyncio.create_task(self._serve(room_id, queue, stuck))
        queue.put_nowait(message)

    async def _serve(
        self, room_id: str, queue: asyncio.Queue[RoomInput], stuck: asyncio.Task[None] | None
    ) -> None:
        if stuck is not None:  # the cancelled lane's last step is over before the room is dropped
            await asyncio.gather(stuck, return_exceptions=True)
        while not queue.empty():
            await self._handle(queue.get_nowait())
        # Nothing queued: the lane ends (checked and removed in one step, so no input can slip in between).
        if self._queues.get(room_id) is queue:
            del self._queues[room_id]
            del self._tasks[room_id]

    async def drained(self) -> None:
        """Every lane has handled what it was given."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def cancel(self) -> None:
        """Stop every lane where it is; what was queued is dropped (the bus still has it, unsettled)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._queues.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

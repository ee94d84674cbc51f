"""The in-process bus of the one-process mode: queues, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from captions.bus.base import CaptionMessage, RoomInput

_CLOSED = None


class MemoryBus:
    def __init__(self) -> None:
        self._inputs: asyncio.Queue[RoomInput | None] = asyncio.Queue()
        self._subscribers: list[asyncio.Queue[CaptionMessage | None]] = []

    async def send_input(self, message: RoomInput) -> None:
        self._inputs.put_nowait(message)

    async def inputs(self) -> AsyncIterator[RoomInput]:
        while (message := await self._inputs.get()) is not _CLOSED:
            yield message

    async def publish_caption(self, message: CaptionMessage) -> None:
        for queue in self._subscribers:
            queue.put_nowait(message)

    async def captions(self) -> AsyncIterator[CaptionMessage]:
        queue: asyncio.Queue[CaptionMessage | None] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while (message := await queue.get()) is not _CLOSED:
                yield message
        finally:
            self._subscribers.remove(queue)

    async def close(self) -> None:
        self._inputs.put_nowait(_CLOSED)
        for queue in self._subscribers:
            queue.put_nowait(_CLOSED)

"""Room input for tests that run a transcriber worker in the test's own process."""

from __future__ import annotations

from collections.abc import AsyncIterator

from captions.bus.inputs import RoomInput
from captions.bus.memory import MemoryRoomInputs


class OneSession(MemoryRoomInputs):
    """Ends the transcriber's input once it has handled the session's ``stop`` (and so published everything)."""

    async def inputs(self) -> AsyncIterator[RoomInput]:
        async for message in super().inputs():
            yield message
            if message.kind == "stop":
                return


class TakenAway(OneSession):
    """The room goes to another transcriber once this one has stored ``finals`` finals (its lease expired while
    Redis failed over): it is asked before each final."""

    def __init__(self, finals: int) -> None:
        super().__init__()
        self._left = finals

    async def owns(self, room_id: str) -> bool:
        self._left -= 1
        return self._left >= 0

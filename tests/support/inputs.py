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

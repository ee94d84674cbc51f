"""Room inputs as a presenter's gateway sends them, and a way to wait for what a bus delivers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from captions.bus.inputs import RoomInput

T = TypeVar("T")


async def take(source: AsyncIterator[T], count: int, within_s: float = 10.0) -> list[T]:
    async def collect() -> list[T]:
        return [await anext(source) for _ in range(count)]

    return await asyncio.wait_for(collect(), within_s)


def talk(room_id: str, session_id: str, frames: int) -> list[RoomInput]:
    """start, ``frames`` 100 ms frames, a browser caption, pause, stop."""
    at = [index * 0.1 for index in range(frames)]
    return [
        RoomInput(room_id, session_id, "start", language="en"),
        *(
            RoomInput(room_id, session_id, "audio", seq=i, pcm=bytes([i]) * 3200, at=at[i])
            for i in range(frames)
        ),
        RoomInput(room_id, session_id, "text", text="hello there", final=True, at=frames * 0.1),
        RoomInput(room_id, session_id, "pause", at=frames * 0.1),
        RoomInput(room_id, session_id, "stop", at=frames * 0.1),
    ]


def comparable(message: RoomInput) -> tuple[Any, ...]:
    return (message.room_id, message.session_id, message.kind, message.seq, message.pcm, message.text,
            message.final, message.at)  # fmt: skip

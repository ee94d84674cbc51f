"""One contract for every bus: in-process queues and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from captions.bus.base import Bus, RoomEvent, RoomInput
from captions.bus.memory import MemoryBus
from captions.bus.redis import RedisBus
from captions.protocol import Caption, Lag, Status
from captions.redis_client import connect
from captions.settings import Settings
from tests.processes import RedisServer

T = TypeVar("T")


@dataclass
class Buses:
    """What each side of a deployment holds: gateways that send and listen, a transcriber that reads."""

    gateways: list[Bus]
    transcriber: Bus


def redis_buses(server: RedisServer) -> tuple[Buses, Callable[[], Any]]:
    settings = Settings(redis_url=server.url, claim_interval_s=0.05)
    clients = [connect(settings) for _ in range(3)]
    buses = [RedisBus(c, settings, name) for c, name in zip(clients, ["gw-a", "gw-b", "tr"], strict=True)]

    async def close() -> None:
        for bus, client in zip(buses, clients, strict=True):
            await bus.close()
            await client.aclose()

    return Buses([buses[0], buses[1]], buses[2]), close


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[Buses]:
    if request.param == "memory":
        bus = MemoryBus()
        yield Buses([bus, bus], bus)
        await bus.close()
        return
    made, close = redis_buses(request.getfixturevalue("redis_server"))
    yield made
    await close()


async def take(source: AsyncIterator[T], count: int, within_s: float = 10.0) -> list[T]:
    async def collect() -> list[T]:
        return [await anext(source) for _ in range(count)]

    return await asyncio.wait_for(collect(), within_s)


def talk(room_id: str, session_id: str, frames: int) -> list[RoomInput]:
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


async def test_each_rooms_input_reaches_the_transcriber_once_in_order(buses: Buses) -> None:
    rooms = {"room-a": talk("room-a", "s1", 6), "room-b": talk("room-b", "s2", 4)}
    received = buses.transcriber.inputs()
    for first, second in zip(rooms["room-a"], rooms["room-b"] + [None] * 2, strict=True):
        await buses.gateways[0].send_input(first)
        if second is not None:
            await buses.gateways[1].send_input(second)
    got = await take(received, sum(len(sent) for sent in rooms.values()))
    for room_id, sent in rooms.items():
        assert [comparable(m) for m in got if m.room_id == room_id] == [comparable(m) for m in sent]


async def test_every_gateway_receives_every_event_of_every_room_in_order(buses: Buses) -> None:
    distinct = buses.gateways[:1] if buses.gateways[0] is buses.gateways[1] else buses.gateways
    sent: list[RoomEvent] = []
    for index in range(12):
        room = f"room-{index % 2}"
        caption = Caption(id=f"s:{index}", kind="final", text=f"words {index}", start=index, end=index + 1,
                          session_id="s")  # fmt: skip
        status = Status(room=room, session="live", session_id="s", presenter_connected=True, viewers=index)
        sent += [RoomEvent.caption(room, caption), RoomEvent(room, "status", status),
                 RoomEvent(room, "lag", Lag(room=room, seconds=index / 2))]  # fmt: skip
    listening = [asyncio.create_task(take(gateway.events(), len(sent))) for gateway in distinct]
    await asyncio.sleep(0.3)  # the gateways are listening before anything is published
    for event in sent:
        await buses.transcriber.publish(event)
    for got in await asyncio.gather(*listening):
        assert [(e.room_id, e.name, e.payload) for e in got] == [(e.room_id, e.name, e.payload) for e in sent]


async def test_settling_and_finishing_a_session_leaves_the_room_open_for_the_next(buses: Buses) -> None:
    received = buses.transcriber.inputs()
    first = talk("room-a", "s1", 3)
    for message in first:
        await buses.gateways[0].send_input(message)
    got = await take(received, len(first))
    await buses.transcriber.settled("room-a", "s1", 0.2)
    await buses.transcriber.handled(got[-3])
    await buses.transcriber.finished("room-a", "s1")
    second = talk("room-a", "s2", 2)
    for message in second:
        await buses.gateways[1].send_input(message)
    again = await take(received, len(second))
    assert [comparable(m) for m in again] == [comparable(m) for m in second]

"""One contract for room events (transcribers and gateways -> every gateway): in-process, and Redis (a real
redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from captions.bus.events import RoomDeleted, RoomEvent, RoomEvents, SessionEnded
from captions.bus.memory import MemoryRoomEvents
from captions.bus.redis_events import RedisRoomEvents
from captions.protocol import Caption, Lag, Status
from captions.redis_client import Retrying, connect
from captions.settings import Settings
from tests.support.bus import take
from tests.support.processes import RedisServer


@dataclass
class Sides:
    """Two gateways that listen, one transcriber that publishes."""

    gateways: Sequence[RoomEvents]
    transcriber: RoomEvents


@pytest.fixture(params=["memory", "redis"])
async def sides(request: pytest.FixtureRequest) -> AsyncIterator[Sides]:
    if request.param == "memory":
        events: RoomEvents = MemoryRoomEvents()
        yield Sides([events], events)
        await events.close()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    settings = Settings(redis_url=server.url)
    clients = [connect(settings) for _ in range(3)]
    made = [RedisRoomEvents(client, settings, Retrying(settings.redis_retry_s)) for client in clients]
    yield Sides(made[:2], made[2])
    for events, client in zip(made, clients, strict=True):
        await events.close()
        await client.aclose()


async def test_every_gateway_receives_every_event_of_every_room_in_order(sides: Sides) -> None:
    sent: list[RoomEvent] = []
    for index in range(12):
        room = f"room-{index % 2}"
        caption = Caption(id=f"s:{index}", kind="final", text=f"words {index}", start=index, end=index + 1,
                          session_id="s")  # fmt: skip
        status = Status(room=room, session="live", session_id="s", presenter_connected=True, viewers=index)
        sent += [RoomEvent.caption(room, caption), RoomEvent(room, "status", status),
                 RoomEvent(room, "lag", Lag(room=room, seconds=index / 2))]  # fmt: skip
    sent += [
        RoomEvent("room-0", "ended", SessionEnded(session_id="s")),
        RoomEvent("room-1", "deleted", RoomDeleted(room="room-1")),
    ]
    listening = [asyncio.create_task(take(gateway.events(), len(sent))) for gateway in sides.gateways]
    await asyncio.sleep(0.3)  # the gateways are listening before anything is published
    for event in sent:
        await sides.transcriber.publish(event)
    for got in await asyncio.gather(*listening):
        assert [(e.room_id, e.name, e.payload) for e in got] == [(e.room_id, e.name, e.payload) for e in sent]

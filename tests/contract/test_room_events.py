"""One contract for room events (transcribers and gateways -> the gateways whose clients are in the room):
in-process, on a real redis-server, and on a real Redis Cluster."""

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
from tests.support.bus import take
from tests.support.redis import redis_settings_for


@dataclass
class Sides:
    """Gateways that listen, one transcriber that publishes."""

    gateways: Sequence[RoomEvents]
    transcriber: RoomEvents


@pytest.fixture(params=["memory", "redis", "cluster"])
async def sides(request: pytest.FixtureRequest) -> AsyncIterator[Sides]:
    if request.param == "memory":
        events: RoomEvents = MemoryRoomEvents()
        yield Sides([events], events)
        await events.close()
        return
    settings = redis_settings_for(request, request.param)
    clients = [connect(settings) for _ in range(3)]
    made = [RedisRoomEvents(client, settings, Retrying(settings.redis_retry_s)) for client in clients]
    yield Sides(made[:2], made[2])
    for events, client in zip(made, clients, strict=True):
        await events.close()
        await client.aclose()


def talk(rooms: Sequence[str], count: int) -> list[RoomEvent]:
    sent: list[RoomEvent] = []
    for index in range(count):
        room = rooms[index % len(rooms)]
        caption = Caption(id=f"s:{index}", kind="final", text=f"words {index}", start=index, end=index + 1,
                          session_id="s")  # fmt: skip
        status = Status(room=room, session="live", session_id="s", presenter_connected=True, viewers=index)
        sent += [RoomEvent.caption(room, caption), RoomEvent(room, "status", status),
                 RoomEvent(room, "lag", Lag(room=room, seconds=index / 2))]  # fmt: skip
    return sent


def seen(events: Sequence[RoomEvent]) -> list[tuple[str, str, object]]:
    return [(e.room_id, e.name, e.payload) for e in events]


async def test_a_gateway_receives_every_event_of_the_rooms_it_subscribed_to_in_order(sides: Sides) -> None:
    rooms = ["room-0", "room-1", "room-2"]
    sent = [
        *talk(rooms, 12),
        RoomEvent("room-0", "ended", SessionEnded(session_id="s")),
        RoomEvent("room-1", "deleted", RoomDeleted(room="room-1")),
    ]
    for gateway in sides.gateways:
        for room in rooms:
            await gateway.subscribe(room)
        assert gateway.subscribed == frozenset(rooms)
    listening = [asyncio.create_task(take(gateway.events(), len(sent))) for gateway in sides.gateways]
    for event in sent:
        await sides.transcriber.publish(event)
    for got in await asyncio.gather(*listening):
        assert seen(got) == seen(sent)


async def test_a_gateway_receives_nothing_of_a_room_it_did_not_subscribe_to(sides: Sides) -> None:
    gateway = sides.gateways[-1]
    await gateway.subscribe("mine")
    assert gateway.subscribed == {"mine"}
    listening = gateway.events()
    others = talk(["theirs", "other"], 6)
    mine = talk(["mine"], 2)
    for event in others + mine:
        await sides.transcriber.publish(event)
    assert seen(await take(listening, len(mine))) == seen(mine), "only the subscribed room's events, in order"


async def test_after_unsubscribing_a_gateway_receives_no_more_of_the_room(sides: Sides) -> None:
    gateway = sides.gateways[-1]
    listening = gateway.events()
    await gateway.subscribe("left")
    await gateway.subscribe("stayed")
    first = talk(["left"], 1)
    for event in first:
        await sides.transcriber.publish(event)
    assert seen(await take(listening, len(first))) == seen(first)
    await gateway.unsubscribe("left")
    assert gateway.subscribed == {"stayed"}
    after = talk(["left"], 2) + talk(["stayed"], 1)
    for event in after:
        await sides.transcriber.publish(event)
    assert seen(await take(listening, 3)) == seen(after[-3:])

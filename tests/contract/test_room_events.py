"""One contract for room events (transcribers and gateways -> the gateways whose clients are in the room):
in-process, on a real redis-server, and on a real Redis Cluster."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from redis.crc import key_slot

from captions import redis_client
from captions.bus.events import RoomDeleted, RoomEvent, RoomEvents, SessionEnded
from captions.bus.memory import MemoryRoomEvents
from captions.bus.redis_events import RedisRoomEvents
from captions.protocol import Caption, Lag, Status
from captions.redis_client import Retrying, connect
from captions.redis_keys import live_channel
from captions.settings import Settings
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


def same_node_rooms(count: int) -> list[str]:
    """Rooms whose channels hash to the first third of the slots: one master of the test cluster holds them."""
    rooms = (f"idle-{n}" for n in itertools.count())
    return list(itertools.islice((r for r in rooms if key_slot(live_channel(r).encode()) < 5000), count))


async def test_a_room_subscribed_after_the_connection_idled_past_its_health_check_is_delivered(
    redis_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first subscription to a room after a while: the subscriber's connection is then due a health check,
    whose answer it must not read while its reader task reads the same socket."""
    monkeypatch.setattr(redis_client, "HEALTH_CHECK_S", 1)
    clients = [connect(redis_settings) for _ in range(2)]
    gateway, transcriber = (RedisRoomEvents(c, redis_settings, Retrying(5)) for c in clients)
    try:
        first, second = same_node_rooms(2)
        listening = gateway.events()
        await gateway.subscribe(first)
        await asyncio.sleep(1.2)  # idle past the health check interval: the condition under test
        await gateway.subscribe(second)
        sent = talk([first, second], 2)
        for event in sent:
            await transcriber.publish(event)
        assert seen(await take(listening, len(sent))) == seen(sent)
    finally:
        for events, client in ((gateway, clients[0]), (transcriber, clients[1])):
            await events.close()
            await client.aclose()

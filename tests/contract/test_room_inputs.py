"""One contract for room input (gateways -> the transcriber owning a room): in-process, and Redis (a real
redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from captions.bus.inputs import InputsBacklogged, RoomInput, RoomInputs
from captions.bus.memory import MemoryRoomInputs
from captions.bus.redis_inputs import RedisRoomInputs
from captions.limits.base import Budget, room_key
from captions.redis_client import Retrying, connect
from tests.support.bus import comparable, take, talk
from tests.support.redis import redis_settings_for

# Rooms the transcriber takes at once: enough for every other test here, and a limit to reach.
MAX_ROOMS = 3
# A room's input not settled yet, at most: five of ``talk``'s frames.
BACKLOG_BYTES = 5 * RoomInput("r", "s", "audio", pcm=bytes(3200)).size


@dataclass
class Sides:
    """Two gateways that send, one transcriber that reads."""

    gateways: Sequence[RoomInputs]
    transcriber: RoomInputs


@pytest.fixture(params=["memory", "redis", "cluster"])
async def sides(request: pytest.FixtureRequest) -> AsyncIterator[Sides]:
    if request.param == "memory":
        inputs: RoomInputs = MemoryRoomInputs(max_rooms=MAX_ROOMS, backlog_bytes=BACKLOG_BYTES)
        yield Sides([inputs, inputs], inputs)
        await inputs.close()
        return
    settings = redis_settings_for(request, request.param)
    settings = settings.model_copy(
        update={
            "claim_interval_s": 0.05,
            "max_rooms": MAX_ROOMS,
            "admission_wait_s": 1.0,
            "room_backlog_mb": BACKLOG_BYTES / 1_000_000,
        }
    )
    clients = [connect(settings) for _ in range(3)]
    made = [
        RedisRoomInputs(client, settings, name, Retrying(settings.redis_retry_s))
        for client, name in zip(clients, ["gw-a", "gw-b", "tr"], strict=True)
    ]
    yield Sides(made[:2], made[2])
    for inputs, client in zip(made, clients, strict=True):
        await inputs.close()
        await client.aclose()


async def test_each_rooms_input_reaches_the_transcriber_once_in_order(sides: Sides) -> None:
    rooms = {"room-a": talk("room-a", "s1", 6), "room-b": talk("room-b", "s2", 4)}
    received = sides.transcriber.inputs()
    reading = asyncio.ensure_future(take(received, sum(len(sent) for sent in rooms.values())))
    for room_id in rooms:  # as a gateway starts a session: the room is admitted first
        assert await sides.gateways[0].admit(room_id)
    for first, second in zip(rooms["room-a"], rooms["room-b"] + [None] * 2, strict=True):
        await sides.gateways[0].send_input(first)
        if second is not None:
            await sides.gateways[1].send_input(second)
    got = await reading
    for room_id, sent in rooms.items():
        assert [comparable(m) for m in got if m.room_id == room_id] == [comparable(m) for m in sent]


async def test_settling_and_finishing_a_session_leaves_the_room_open_for_the_next(sides: Sides) -> None:
    received = sides.transcriber.inputs()
    first = talk("room-a", "s1", 3)
    reading = asyncio.ensure_future(take(received, len(first)))
    assert await sides.gateways[0].admit("room-a")
    for message in first:
        await sides.gateways[0].send_input(message)
    got = await reading
    await sides.transcriber.settled("room-a", "s1", 0.2)
    await sides.transcriber.handled(got[-3])
    await sides.transcriber.finished("room-a", "s1")
    second = talk("room-a", "s2", 2)
    assert await sides.gateways[1].admit("room-a")
    for message in second:
        await sides.gateways[1].send_input(message)
    again = await take(received, len(second))
    assert [comparable(m) for m in again] == [comparable(m) for m in second]


async def test_a_forgotten_room_keeps_nothing_and_can_be_admitted_again(sides: Sides) -> None:
    """A deleted room's input is dropped and its transcription slot freed; the room id taken again starts clean."""
    received = sides.transcriber.inputs()
    reading = asyncio.ensure_future(take(received, 3))
    assert await sides.gateways[0].admit("room-a")
    for message in talk("room-a", "s1", 2)[:3]:
        await sides.gateways[0].send_input(message)
    await reading
    await sides.transcriber.forget("room-a")
    assert await sides.gateways[0].admit("room-a")
    again = RoomInput("room-a", "s2", "start")
    await sides.gateways[0].send_input(again)
    assert [comparable(m) for m in await take(received, 1)] == [comparable(again)]


async def test_audio_beyond_the_rooms_budget_is_not_sent_from_any_gateway(sides: Sides) -> None:
    """The budget is the room's, whichever gateway the frame comes through; a refused frame takes nothing."""
    frames = [m for m in talk("room-a", "s1", 5) if m.kind == "audio"]
    stop = RoomInput("room-a", "s1", "stop", at=0.3)
    reading = asyncio.ensure_future(take(sides.transcriber.inputs(), 5))
    assert await sides.gateways[0].admit("room-a")
    budget = Budget(room_key("audio", "room-a"), rate=0.01, burst=0.3, amount=0.1)
    for n, frame in enumerate(frames[:3]):
        assert await sides.gateways[n % 2].send_within(frame, budget) == 0
    wait = await sides.gateways[1].send_within(frames[3], budget)
    assert wait > 5, "0.1 s of audio at 0.01 s a second"
    assert await sides.gateways[0].send_within(frames[3], Budget(budget.key, 0.01, 0.3, 0.0)) == 0, (
        "the refused frame took nothing: the bucket is still exactly empty"
    )
    await sides.gateways[0].send_input(stop)
    got = await reading
    assert [comparable(m) for m in got] == [comparable(m) for m in [*frames[:4], stop]], (
        "the refused frame was never sent (only the one with no amount was)"
    )


async def test_rooms_beyond_max_rooms_are_refused_until_one_finishes(sides: Sides) -> None:
    received = sides.transcriber.inputs()
    reading = asyncio.ensure_future(take(received, MAX_ROOMS))  # a transcriber is running
    started = [RoomInput(f"room-{n}", f"s{n}", "start") for n in range(MAX_ROOMS)]
    for message in started:
        assert await sides.gateways[0].admit(message.room_id)
        await sides.gateways[0].send_input(message)
    got = await reading
    assert await sides.gateways[1].admit("room-0"), "a room the transcriber has is always admitted"
    assert not await sides.gateways[1].admit("room-late")
    assert not await sides.gateways[1].admit("room-late"), "a refused room leaves nothing waiting"

    await sides.transcriber.handled(got[0])
    await sides.transcriber.finished("room-0", "s0")
    assert await sides.gateways[1].admit("room-late")
    await sides.gateways[1].send_input(RoomInput("room-late", "s-late", "start"))
    [late] = await take(received, 1)
    assert (late.room_id, late.kind) == ("room-late", "start")


async def test_audio_past_the_rooms_backlog_is_refused_until_its_transcriber_settles_some(
    sides: Sides,
) -> None:
    """A room's input not settled yet is bounded: a frame past it is refused (nothing sent, nothing trimmed) and
    goes through once the transcriber has settled audio before it, whichever gateway sends it."""
    frames = [m for m in talk("room-a", "s1", 8) if m.kind == "audio"]
    budget = Budget(room_key("audio", "room-a"), rate=100, burst=100, amount=0.1)
    received = sides.transcriber.inputs()
    reading = asyncio.ensure_future(take(received, 5))
    assert await sides.gateways[0].admit("room-a")
    for n, frame in enumerate(frames[:5]):
        assert await sides.gateways[n % 2].send_within(frame, budget) == 0
    with pytest.raises(InputsBacklogged):
        await sides.gateways[1].send_within(frames[5], budget)
    await reading
    with pytest.raises(InputsBacklogged):  # delivered is not settled
        await sides.gateways[0].send_within(frames[5], budget)
    await sides.transcriber.settled("room-a", "s1", 0.2)  # frames 0 and 1
    assert await sides.gateways[0].send_within(frames[5], budget) == 0
    assert await sides.gateways[1].send_within(frames[6], budget) == 0
    with pytest.raises(InputsBacklogged):
        await sides.gateways[0].send_within(frames[7], budget)
    later = await take(received, 2)
    assert [comparable(m) for m in later] == [comparable(m) for m in frames[5:7]]
    await sides.transcriber.finished("room-a", "s1")
    assert await sides.gateways[1].send_within(frames[7], budget) == 0, "a finished session leaves no backlog"

"""What only the Redis bus does: leases, takeover of a dead transcriber's rooms, riding out a Redis restart. On a
single Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from captions import redis_keys
from captions.bus.events import RoomEvent
from captions.bus.inputs import RoomInput
from captions.bus.redis_events import RedisRoomEvents
from captions.bus.redis_inputs import RedisRoomInputs
from captions.bus.redis_offers import LoadBoard
from captions.limits.base import Budget, room_key
from captions.protocol import Lag
from captions.redis_client import Retrying, connect
from captions.redis_keys import LOAD, alive
from captions.roomstate.redis import RedisRoomState
from captions.settings import Settings
from tests.support.bus import take, talk
from tests.support.processes import RedisServer


@pytest.fixture
def settings(redis_settings: Settings) -> Settings:
    return redis_settings.model_copy(update={"lease_s": 1.0, "claim_interval_s": 0.05, "redis_retry_s": 20})


@pytest.fixture
def single(redis_server: RedisServer) -> Settings:
    return Settings(redis_url=redis_server.url, lease_s=1.0, claim_interval_s=0.05, redis_retry_s=20)


async def open_bus(settings: Settings, name: str) -> RedisRoomInputs:
    return RedisRoomInputs(connect(settings), settings, name, Retrying(settings.redis_retry_s))


def open_events(settings: Settings) -> RedisRoomEvents:
    return RedisRoomEvents(connect(settings), settings, Retrying(settings.redis_retry_s))


async def started_room(
    settings: Settings,
) -> tuple[RedisRoomInputs, RedisRoomInputs, AsyncIterator[RoomInput], RoomInput]:
    """A gateway, and a transcriber ``tr-1`` that owns ``room`` and has read its session's start (returned last)."""
    gateway, owner = await open_bus(settings, "gw"), await open_bus(settings, "tr-1")
    inputs = owner.inputs()
    reading = asyncio.ensure_future(take(inputs, 1))
    assert await gateway.admit("room")
    await gateway.send_input(RoomInput("room", "s1", "start"))
    [start] = await reading
    return gateway, owner, inputs, start


def die(bus: RedisRoomInputs) -> None:
    """What kill -9 leaves behind: nothing renews the leases, nothing acknowledges, nothing is handed over."""
    for task in bus._tasks:
        task.cancel()
    for owned in bus._owned.values():
        if owned.reader is not None:
            owned.reader.cancel()


async def test_a_dead_transcribers_room_moves_with_exactly_its_unsettled_input(settings: Settings) -> None:
    gateway, first, second = [await open_bus(settings, name) for name in ("gw", "tr-1", "tr-2")]
    sent = talk("room", "s1", 10)[:11]  # start and ten 100 ms frames
    first_inputs = first.inputs()
    reading = asyncio.ensure_future(take(first_inputs, len(sent)))
    assert await gateway.admit("room")
    for message in sent:
        await gateway.send_input(message)
    got = await reading
    assert [m.kind for m in got] == ["start"] + ["audio"] * 10
    await first.settled("room", "s1", 0.5)  # frames 0-4 transcribed and stored
    die(first)

    second_inputs = second.inputs()
    taken = await take(second_inputs, 5, within_s=5)
    assert [m.seq for m in taken] == [5, 6, 7, 8, 9], "the unsettled input, nothing more"
    assert taken[0].at == pytest.approx(0.5), "the new owner's clock starts where the settled audio ends"
    later = RoomInput("room", "s1", "audio", seq=10, pcm=b"\0" * 3200, at=1.0)
    await gateway.send_input(later)
    assert [m.seq for m in await take(second_inputs, 1)] == [10]
    for bus in (gateway, second):
        await bus.close()


async def test_a_transcriber_started_again_under_its_name_takes_the_rooms_it_had(settings: Settings) -> None:
    """Every transcriber died; one comes back under the same name (a fixed instance name). Its name looks alive
    again, so nobody else would offer its rooms: it offers them itself, and takes them with their unsettled
    input."""
    gateway, first = await open_bus(settings, "gw"), await open_bus(settings, "tr-1")
    sent = talk("room", "s1", 4)[:5]  # start and four frames
    reading = asyncio.ensure_future(take(first.inputs(), len(sent)))
    assert await gateway.admit("room")
    for message in sent:
        await gateway.send_input(message)
    await reading
    await first.settled("room", "s1", 0.2)  # frames 0 and 1
    die(first)

    again = await open_bus(settings, "tr-1")
    taken = await take(again.inputs(), 2, within_s=10)
    assert [m.seq for m in taken] == [2, 3]
    assert again.owned_rooms == ["room"]
    for bus in (gateway, again):
        await bus.close()


async def test_a_transcriber_that_lost_its_lease_lets_go_of_the_room(settings: Settings) -> None:
    gateway, owner, inputs, _ = await started_room(settings)
    redis = connect(settings)
    await redis.set(
        redis_keys.lease("room"), "tr-2", px=5000
    )  # e.g. it stalled past its lease and another took over
    released = await take(inputs, 1, within_s=3)
    assert released[0].kind == "release"
    assert released[0].room_id == "room"
    assert owner.owned_rooms == []
    await redis.aclose()
    for bus in (gateway, owner):
        await bus.close()


async def test_a_lease_left_after_its_room_was_let_go_does_not_stand_for_an_owner(settings: Settings) -> None:
    """A transcriber lets a finished room go (its lease and input go) while a renewal of the lease is on its way:
    the lease comes back, held by a living transcriber that no longer reads the room. The room's next session
    must still find a transcriber that does, not send its input to nobody."""
    gateway, owner, inputs, start = await started_room(settings)
    await owner.handled(start)
    await owner.finished("room", "s1")
    assert owner.owned_rooms == []
    redis = connect(settings)
    await redis.set(redis_keys.lease("room"), "tr-1", px=round(settings.lease_s * 1000))  # the late renewal
    assert await gateway.admit("room")
    assert owner.owned_rooms == ["room"], "admitted only once a transcriber took the room"
    again = RoomInput("room", "s2", "start")
    await gateway.send_input(again)
    assert [(m.session_id, m.kind) for m in await take(inputs, 1)] == [("s2", "start")]
    await redis.aclose()
    for bus in (gateway, owner):
        await bus.close()


async def test_events_keep_flowing_through_a_redis_restart(
    single: Settings, redis_server: RedisServer
) -> None:
    gateway, transcriber = open_events(single), open_events(single)
    events = [RoomEvent("room", "lag", Lag(room="room", seconds=float(i))) for i in range(9)]
    await gateway.subscribe("room")
    received = asyncio.create_task(take(gateway.events(), len(events), within_s=30))
    for event in events[:3]:
        await transcriber.publish(event)
    await asyncio.to_thread(redis_server.stop)
    during = asyncio.create_task(transcriber.publish(events[3]))  # waits for Redis instead of failing
    await asyncio.sleep(1.0)
    await asyncio.to_thread(redis_server.start)
    await during
    for event in events[4:]:
        await transcriber.publish(event)
    assert [e.payload for e in await received] == [e.payload for e in events]
    for bus in (gateway, transcriber):
        await bus.close()


async def test_room_input_sent_while_redis_restarts_is_delivered(
    single: Settings, redis_server: RedisServer
) -> None:
    gateway, transcriber = await open_bus(single, "gw"), await open_bus(single, "tr")
    inputs: AsyncIterator[RoomInput] = transcriber.inputs()
    sent = talk("room", "s1", 6)[:7]
    reading = asyncio.ensure_future(take(inputs, 3))
    assert await gateway.admit("room")
    for message in sent[:3]:
        await gateway.send_input(message)
    assert len(await reading) == 3
    await asyncio.to_thread(redis_server.stop)
    sending = asyncio.create_task(_send_all(gateway, sent[3:]))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(redis_server.start)
    await sending
    assert [m.seq for m in await take(inputs, 4, within_s=20)] == [2, 3, 4, 5]
    assert transcriber.owned_rooms == ["room"], "a lease that expired while Redis was down is kept"
    for bus in (gateway, transcriber):
        await bus.close()


async def _send_all(bus: RedisRoomInputs, messages: list[RoomInput]) -> None:
    for message in messages:
        await bus.send_input(message)


async def test_handled_input_is_not_given_again_to_the_next_owner(settings: Settings) -> None:
    gateway, first, second = [await open_bus(settings, name) for name in ("gw", "tr-1", "tr-2")]
    first_inputs = first.inputs()
    sent = [RoomInput("room", "s1", "start"), *(RoomInput("room", "s1", "text", text=t) for t in ("a", "b"))]
    reading = asyncio.ensure_future(take(first_inputs, 3))
    assert await gateway.admit("room")
    for message in sent:
        await gateway.send_input(message)
    got = await reading
    await first.handled(got[-1])  # both captions stored (the start with them)
    die(first)
    second_inputs = second.inputs()
    await gateway.send_input(RoomInput("room", "s1", "text", text="c"))
    assert [m.text for m in await take(second_inputs, 1, within_s=5)] == ["c"], "nothing handled comes back"
    for bus in (gateway, second):
        await bus.close()


async def test_input_in_flight_when_its_room_was_deleted_is_dropped_not_kept_forever(
    settings: Settings,
) -> None:
    """A presenter's frame that reaches Redis after the room's owner let its input go would make a stream nobody
    reads or deletes: the gateway's deletion leaves a tombstone that refuses it (the owner is still told)."""
    gateway, owner = await open_bus(settings, "gw"), await open_bus(settings, "tr-1")
    owner_inputs = owner.inputs()
    reading = asyncio.ensure_future(take(owner_inputs, 1))
    assert await gateway.admit("room")
    await gateway.send_input(RoomInput("room", "s1", "start"))
    assert [m.kind for m in await reading] == ["start"]
    client = connect(settings)
    state = RedisRoomState(client, "gw", settings, Retrying(settings.redis_retry_s))
    await state.forget("room")
    await gateway.send_input(RoomInput("room", "s1", "delete"))
    assert [m.kind for m in await take(owner_inputs, 1)] == ["delete"]
    await owner.forget("room")
    budget = Budget(room_key("audio", "room"), rate=100, burst=100, amount=0.1)
    assert await gateway.send_within(RoomInput("room", "s1", "audio", seq=1, pcm=b"\0" * 3200), budget) == 0
    await gateway.send_input(RoomInput("room", "s1", "pause"))
    assert not await client.exists(redis_keys.audio("room")), "nothing of the room made again"
    for bus in (gateway, owner):
        await bus.close()
    await client.aclose()


async def test_an_offered_room_is_taken_at_once_not_at_the_next_look(settings: Settings) -> None:
    """Transcribers look for rooms nobody owns only once a minute here: a new session's room is admitted
    because its gateway offers it, and the transcriber answers the offer."""
    rarely = settings.model_copy(update={"claim_interval_s": 60.0, "admission_wait_s": 5.0})
    gateway, transcriber = await open_bus(rarely, "gw"), await open_bus(rarely, "tr")
    inputs = transcriber.inputs()
    for room_id in ("room-1", "room-2"):  # the second after the transcriber surely made its first look
        taking = asyncio.ensure_future(take(inputs, 1))
        assert await gateway.admit(room_id), f"{room_id} admitted within admission_wait_s"
        await gateway.send_input(RoomInput(room_id, "s1", "start"))
        assert [m.room_id for m in await taking] == [room_id]
    assert sorted(transcriber.owned_rooms) == ["room-1", "room-2"]
    for bus in (gateway, transcriber):
        await bus.close()


async def test_transcribers_rank_by_rooms_owned_and_dead_ones_leave_the_board(settings: Settings) -> None:
    redis = connect(settings)
    boards = {name: LoadBoard(redis, name, alive_ms=60_000) for name in ("tr-a", "tr-b", "tr-c", "tr-d")}
    for name, rooms in (("tr-a", 2), ("tr-b", 0), ("tr-c", 1), ("tr-d", 0)):
        await boards[name].announce(rooms)
    await redis.delete(alive("tr-d"))  # what a killed transcriber leaves once its liveness expires
    living, dead = await boards["tr-a"].living()
    assert dead == ["tr-d"]
    assert boards["tr-a"].rank(living, 2) == 2, "tr-b and tr-c own fewer rooms; tr-d is dead"
    assert boards["tr-b"].rank(living, 0) == 0
    assert boards["tr-c"].rank(living, 0) == 1, "a tie goes by name"
    await boards["tr-a"].orphan_rooms_of("tr-d")
    assert await redis.zrange(LOAD, 0, -1) == [b"tr-b", b"tr-c", b"tr-a"], "the dead leave the board"
    await redis.aclose()


async def test_a_new_room_goes_to_the_least_loaded_transcriber(single: Settings) -> None:
    """On a single Redis: the test waits for the board through keyspace notifications, which are per node."""
    settings = single
    gateway, busy, idle = [await open_bus(settings, name) for name in ("gw", "tr-busy", "tr-idle")]
    busy_inputs = busy.inputs()
    for room_id in ("room-1", "room-2"):
        taking = asyncio.ensure_future(take(busy_inputs, 1))
        assert await gateway.admit(room_id)
        await gateway.send_input(RoomInput(room_id, "s1", "start"))
        await taking
    redis = connect(settings)
    await redis.config_set("notify-keyspace-events", "Kz")  # Redis tells when the board of loads changes
    board: Any = redis.pubsub()  # redis-py leaves its pub/sub methods untyped
    await board.subscribe(f"__keyspace@0__:{LOAD}")
    taking = asyncio.ensure_future(take(idle.inputs(), 1))
    while await redis.zscore(LOAD, "tr-idle") is None:  # on the board once it reads rooms
        await board.get_message(timeout=5)
    await board.aclose()
    assert await gateway.admit("room-3")
    await gateway.send_input(RoomInput("room-3", "s1", "start"))
    assert [m.room_id for m in await taking] == ["room-3"]
    assert sorted(busy.owned_rooms) == ["room-1", "room-2"]
    await redis.aclose()
    for bus in (gateway, busy, idle):
        await bus.close()


async def test_an_event_a_gateway_cannot_read_is_skipped_and_delivery_goes_on(settings: Settings) -> None:
    """A newer version's event, or a damaged one, must not stop a gateway's delivery for every room."""
    gateway, publisher = open_events(settings), open_events(settings)
    await gateway.subscribe("room")
    received = asyncio.create_task(take(gateway.events(), 1, within_s=10))
    keys = [redis_keys.events("room"), redis_keys.events_seq("room"), redis_keys.live_channel("room")]
    for name, payload in (("from-the-future", "{}"), ("lag", "{not json"), ("lag", '{"room": 5}')):
        await publisher._publish(
            keys=keys, args=[100, 60_000, name, payload, "~"]
        )  # as another version would
    readable = RoomEvent("room", "lag", Lag(room="room", seconds=1.5))
    await publisher.publish(readable)
    assert [event.payload for event in await received] == [readable.payload]
    for bus in (gateway, publisher):
        await bus.close()


class _LeaksOnce:
    """A Redis command that fails once with an error no caller expects, as redis-py 8.1 did when a failover
    closed the connection under it (``AttributeError: 'NoneType' object has no attribute 'writelines'``)."""

    def __init__(self, command: Any) -> None:
        self._command = command
        self.failed = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise AttributeError("'NoneType' object has no attribute 'writelines'")
        return await self._command(*args, **kwargs)


async def test_a_rooms_reader_goes_on_after_an_error_nobody_expected(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that died would leave its room owned, its lease renewed and its input read by nobody: the talk's
    captions would stop for good."""
    gateway, owner, inputs, _ = await started_room(settings)
    leak = _LeaksOnce(owner._redis.xreadgroup)
    monkeypatch.setattr(owner._redis, "xreadgroup", leak)
    frames = talk("room", "s1", 3)[1:4]
    for frame in frames:
        await gateway.send_input(frame)
    assert [m.seq for m in await take(inputs, 3, within_s=10)] == [0, 1, 2]
    assert leak.failed
    for bus in (gateway, owner):
        await bus.close()


async def test_a_gateways_node_reader_goes_on_after_an_error_nobody_expected(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node's reader that died would leave every room it serves without captions on this gateway."""
    gateway, publisher = open_events(settings), open_events(settings)
    await gateway.subscribe("room")
    [reader] = gateway._subscriber._readers.values()
    leak = _LeaksOnce(reader.pubsub.get_message)
    monkeypatch.setattr(reader.pubsub, "get_message", leak)
    received = asyncio.create_task(take(gateway.events(), 2, within_s=15))
    events = [RoomEvent("room", "lag", Lag(room="room", seconds=float(i))) for i in range(2)]
    for event in events:
        await publisher.publish(event)
    assert [e.payload for e in await received] == [e.payload for e in events]
    for bus in (gateway, publisher):
        await bus.close()


async def test_a_transcriber_owns_its_room_until_another_takes_the_lease(settings: Settings) -> None:
    """Asked before each final is stored: one whose lease went while Redis failed over stores nothing more."""
    gateway, owner, _, _ = await started_room(settings)
    assert await owner.owns("room")
    redis = connect(settings)
    await redis.delete(redis_keys.lease("room"))
    assert await owner.owns("room"), "expired with nobody taking it: its next renewal makes it again"
    await redis.set(redis_keys.lease("room"), "tr-2", px=5000)
    assert not await owner.owns("room")
    assert not await gateway.owns("room"), "a process that never took the room does not own it"
    await redis.aclose()
    for bus in (gateway, owner):
        await bus.close()

"""One contract for the room state gateways share: in-process, and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from captions.redis_client import connect
from captions.roomstate.base import LiveSession, Presence, RoomState
from captions.roomstate.memory import MemoryRoomState
from captions.roomstate.redis import RedisRoomState
from captions.settings import Settings
from tests.processes import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[RoomState]:
    if request.param == "memory":
        yield MemoryRoomState()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = connect(Settings(redis_url=server.url))
    shared = RedisRoomState(client, "gw-a", Settings(redis_url=server.url))
    await shared.heartbeat()
    yield shared
    await shared.close()
    await client.aclose()


async def test_a_room_without_a_session_is_idle(state: RoomState) -> None:
    session = await state.session("room")
    assert (session.session_id, session.state, session.last_seq, session.audio_seconds) == (
        None,
        "idle",
        -1,
        0.0,
    )


async def test_a_saved_session_is_what_every_gateway_reads(state: RoomState) -> None:
    saved = LiveSession("s1", "paused", last_seq=41, audio_seconds=4.2, last_activity=1234.5)
    await state.save_session("room", saved)
    assert await state.session("room") == saved
    assert (await state.session("other")).session_id is None
    saved.last_seq = 99  # a gateway changing its copy changes nothing shared until it saves
    assert (await state.session("room")).last_seq == 41


async def test_ending_or_forgetting_a_session_makes_the_room_idle(state: RoomState) -> None:
    await state.save_session("room", LiveSession("s1", "live"))
    await state.save_session("room", LiveSession())
    assert (await state.session("room")).session_id is None
    await state.save_session("room", LiveSession("s2", "live"))
    await state.set_presence("room", True, 2)
    await state.forget("room")
    assert (await state.session("room")).session_id is None
    assert await state.presence("room") == Presence(False, 0)


async def test_presence_is_this_gateways_share(state: RoomState) -> None:
    assert await state.presence("room") == Presence(False, 0)
    await state.set_presence("room", True, 3)
    assert await state.presence("room") == Presence(True, 3)
    await state.set_presence("room", False, 2)
    assert await state.presence("room") == Presence(False, 2)


async def test_presence_sums_gateways_and_forgets_a_silent_one(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, presence_ttl_s=1.0)
    client = connect(settings)
    a, b = RedisRoomState(client, "gw-a", settings), RedisRoomState(client, "gw-b", settings)
    for gateway in (a, b):
        await gateway.heartbeat()
    await a.set_presence("room", True, 3)
    await b.set_presence("room", False, 4)
    assert await b.presence("room") == Presence(True, 7)
    await asyncio.sleep(1.2)
    await b.heartbeat()  # gateway a was killed: it stopped beating
    assert await b.presence("room") == Presence(False, 4)
    await client.aclose()

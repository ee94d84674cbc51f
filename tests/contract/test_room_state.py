"""One contract for the room state gateways share: in the store (one process; SQLite and the Mongo fake), and
Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from captions.redis_client import Retrying, connect
from captions.roomstate.base import STATUS_TURN_S, LiveSession, Presence, RoomState
from captions.roomstate.redis import RedisRoomState
from captions.roomstate.stored import StoredRoomState
from captions.settings import Settings
from captions.store.base import RoomRecord, SessionRecord, Store
from tests.support.redis import redis_settings_for
from tests.support.stores import StoreKind, open_test_store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Shared:
    """The room state under test, and how a gateway starts a session (in the store, then in the state)."""

    def __init__(self, state: RoomState, store: Store) -> None:
        self.state = state
        self.store = store
        self.started = 0

    async def start(self, room_id: str, session_id: str) -> LiveSession:
        if await self.store.get_room(room_id) is None:
            await self.store.create_room(RoomRecord(room_id, "Talk", "en", "hash", NOW))
        self.started += 1
        started = NOW + timedelta(minutes=self.started)
        await self.store.start_session(SessionRecord(session_id, room_id, started))
        session = LiveSession(session_id, "live", started_at=started.timestamp())
        await self.state.save_session(room_id, session)
        return session


@pytest.fixture(params=["sqlite", "mongo", "redis", "cluster"])
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Shared]:
    kind: StoreKind = "mongo" if request.param == "mongo" else "sqlite"
    async with open_test_store(kind, request.getfixturevalue("tmp_path")) as store:
        if request.param not in ("redis", "cluster"):
            yield Shared(StoredRoomState(store, Settings().presenter_timeout_s), store)
            return
        settings = redis_settings_for(request, request.param)
        client = connect(settings)
        state = RedisRoomState(client, "gw-a", settings, Retrying(settings.redis_retry_s))
        await state.heartbeat()
        yield Shared(state, store)
        await state.close()
        await client.aclose()


async def test_a_room_without_a_session_is_idle(shared: Shared) -> None:
    session = await shared.state.session("room")
    assert (session.session_id, session.state, session.last_seq, session.audio_seconds) == (
        None,
        "idle",
        -1,
        0.0,
    )
    assert await shared.state.due_rooms(10) == []


async def test_a_saved_session_is_what_every_gateway_reads(shared: Shared) -> None:
    saved = await shared.start("room", "s1")
    saved.state, saved.last_seq, saved.audio_seconds, saved.last_activity = "paused", 41, 4.2, 1234.5
    saved.paused_at, saved.parked, saved.held_by = 1230.25, True, "live_rooms:addr:{198.51.100.7}"
    await shared.state.save_session("room", saved)
    assert await shared.state.session("room") == saved
    assert (await shared.state.session("other")).session_id is None
    saved.last_seq = 99  # a gateway changing its copy changes nothing shared until it saves
    assert (await shared.state.session("room")).last_seq == 41


async def test_an_ended_session_stays_the_rooms_last_and_a_late_end_ends_nothing_newer(
    shared: Shared,
) -> None:
    await shared.start("room", "s1")
    await shared.store.end_session("s1", NOW)  # the transcriber stored its last final
    assert await shared.state.end_session("room", "s1") is True
    ended = await shared.state.session("room")
    assert (ended.session_id, ended.state) == ("s1", "ended")
    await shared.state.recheck("room", time.time() - 1)
    assert await shared.state.due_rooms(10) == [], "an ended session is never looked at again"
    await shared.start("room", "s2")
    assert await shared.state.end_session("room", "s1") is False, "s1 ended long ago; s2 goes on"
    assert (await shared.state.session("room")).state == "live"
    await shared.state.recheck("room", time.time() - 1)
    assert await shared.state.due_rooms(10) == ["room"]


async def test_an_open_session_is_due_when_its_presenter_may_have_timed_out_and_to_one_caller(
    shared: Shared,
) -> None:
    await shared.start("room", "s1")
    await shared.start("other", "s2")
    assert await shared.state.due_rooms(10) == [], "just started: not before presenter_timeout_s"
    await shared.state.recheck("room", time.time() - 1)
    assert await shared.state.due_rooms(10) == ["room"]
    assert await shared.state.due_rooms(10) == [], "given to one caller; due again only after RECHECK_S"
    await shared.state.recheck("room", time.time() + 60)
    assert await shared.state.due_rooms(10) == []
    for room in ("room", "other"):
        await shared.state.recheck(room, time.time() - 1)
    assert await shared.state.due_rooms(1) in (["room"], ["other"]), "at most the limit"
    assert len(await shared.state.due_rooms(10)) == 1, "and the rest later"


async def test_a_rooms_status_turn_is_held_by_one_gateway_until_its_status_went_out(shared: Shared) -> None:
    assert await shared.state.claim_status("room") == 0
    assert 0 < await shared.state.claim_status("room") <= STATUS_TURN_S, "held while it is being sent"
    assert await shared.state.claim_status("other") == 0, "per room"
    await shared.state.status_sent("room", 0.3)
    wait = await shared.state.claim_status("room")
    assert 0 < wait <= 0.3, "the next one counted from the sending"
    await asyncio.sleep(wait + 0.01)  # the turn's end itself is what is tested (Redis counts whole ms)
    assert await shared.state.claim_status("room") == 0


async def test_presence_shared_after_the_room_was_deleted_is_not_kept(shared: Shared) -> None:
    """A heartbeat or a leaving client in flight while the room was deleted must not count it again."""
    await shared.start("room", "s1")
    await shared.store.delete_room("room")
    await shared.state.forget("room")
    await shared.state.set_presence("room", True, 3)
    await shared.state.heartbeat()
    assert await shared.state.presence("room") == Presence(False, 0)


async def test_forgetting_a_room_drops_its_presence(shared: Shared) -> None:
    await shared.start("room", "s1")
    await shared.state.set_presence("room", True, 2)
    await shared.store.delete_room("room")
    await shared.state.forget("room")
    assert (await shared.state.session("room")).session_id is None
    assert await shared.state.presence("room") == Presence(False, 0)
    await shared.state.recheck("room", time.time() - 1)
    assert await shared.state.due_rooms(10) == []


async def test_presence_is_this_gateways_share(shared: Shared) -> None:
    state = shared.state
    await shared.start("room", "s1")
    assert await state.presence("room") == Presence(False, 0)
    await state.set_presence("room", True, 3)
    assert await state.presence("room") == Presence(True, 3)
    await state.set_presence("room", False, 2)
    assert await state.presence("room") == Presence(False, 2)


async def test_presence_sums_gateways_and_forgets_a_silent_one(redis_settings: Settings) -> None:
    settings = redis_settings.model_copy(update={"presence_ttl_s": 1.0})
    client = connect(settings)
    retrying = Retrying(settings.redis_retry_s)
    a, b = (
        RedisRoomState(client, "gw-a", settings, retrying),
        RedisRoomState(client, "gw-b", settings, retrying),
    )
    for gateway in (a, b):
        await gateway.heartbeat()
    await a.set_presence("room", True, 3)
    await b.set_presence("room", False, 4)
    assert await b.presence("room") == Presence(True, 7)
    await asyncio.sleep(1.2)
    await b.heartbeat()  # gateway a was killed: it stopped beating
    assert await b.presence("room") == Presence(False, 4)
    await b.close()
    assert await a.presence("room") == Presence(False, 0), "a gateway that stops takes its share along"
    await client.aclose()


async def test_only_one_gateway_is_given_a_due_session(redis_settings: Settings) -> None:
    clients = [connect(redis_settings) for _ in range(4)]
    states = [
        RedisRoomState(client, f"gw-{n}", redis_settings, Retrying(redis_settings.redis_retry_s))
        for n, client in enumerate(clients)
    ]
    for n in range(20):
        await states[0].save_session(f"room-{n}", LiveSession(f"s{n}", "live", last_activity=0.0))
    given = await asyncio.gather(*(state.due_rooms(100) for state in states))
    rooms = [room for rooms in given for room in rooms]
    assert sorted(rooms) == sorted(f"room-{n}" for n in range(20)), "each once, to one gateway"
    for client in clients:
        await client.aclose()

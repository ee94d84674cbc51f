"""The scale-out deployment as real processes: two gateways and two transcribers on one real redis-server.

A presenter on gateway A streams a recording in real time; viewers on both gateways read along while
transcribers, gateways and Redis fail under them. The store is one SQLite file shared by the processes (no
MongoDB server can run here; the Mongo store passes the same contract suite against a fake).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from captions import redis_keys
from captions.settings import Settings
from tests.support.deployment import (
    RECORDING,
    SPEED,
    STATUS_INTERVAL_S,
    Deployment,
    assert_one_clean_transcript,
    disconnected,
    end_and_check,
    finals_at_least,
    finish_talk,
    talk_with_a_viewer_on_b,
    texts,
)
from tests.support.fake_destinations import FakeZoom
from tests.support.harness import (
    Client,
    create_room,
    pcm_frames,
    presenter,
    stored_finals,
    stream,
    until,
    viewer,
)
from tests.support.raw_socketio import join, open_socket
from tests.support.speech import SpeechCorpus

PAIRS, ARRIVAL_S = 20, 0.1


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt-get)")
    running = Deployment(tmp_path_factory.mktemp("deployment"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
async def services(deployment: Deployment) -> Deployment:
    """Every process up (a test before may have killed one)."""
    await asyncio.to_thread(deployment.ensure_running)
    return deployment


async def test_viewers_on_both_gateways_read_the_presenter_on_one(
    services: Deployment, speech: SpeechCorpus
) -> None:
    a, b = services.gateways
    room = await create_room(a)
    on_a = await viewer(a, room["id"]).connect()
    on_b = await viewer(b, room["id"]).connect()
    speaker = await presenter(a, room).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    await on_b.wait_for(lambda: any(s["presenter_connected"] and s["viewers"] == 2 for s in on_b.statuses))
    await finish_talk(speaker, talk, [on_a, on_b])
    stored = await stored_finals(b, room["id"])
    for client in (on_a, on_b, speaker):
        await client.wait_for(partial(finals_at_least, len(stored), client))
    assert texts(on_b.finals) == texts(on_a.finals) == texts(stored), "every final, in order, everywhere"
    assert any(c["kind"] == "partial" for c in on_b.captions), "partials cross gateways too"
    assert_one_clean_transcript(stored, speech)
    for client in (on_a, on_b, speaker):
        await client.disconnect()


async def test_a_rooms_viewer_count_comes_once_per_interval_whichever_gateways_its_viewers_join(
    services: Deployment,
) -> None:
    """Viewers keep joining on both gateways: the room is told at most one status per interval. Each gateway
    throttling on its own would send one per interval per gateway."""
    a, b = services.gateways
    room = await create_room(a)
    watcher = await viewer(a, room["id"]).connect()
    await watcher.wait_for(lambda: bool(watcher.statuses))
    welcomed = len(watcher.statuses)
    joined: list[Client] = []
    started = time.monotonic()
    for _ in range(PAIRS):  # a pair every ARRIVAL_S: few enough that the interval stays STATUS_INTERVAL_S
        joined += await asyncio.gather(viewer(a, room["id"]).connect(), viewer(b, room["id"]).connect())
        await asyncio.sleep(ARRIVAL_S)  # how viewers arrive, not a wait for anything
    everyone = len(joined) + 1
    await watcher.wait_for(lambda: any(s["viewers"] == everyone for s in watcher.statuses))
    elapsed = time.monotonic() - started
    told = len(watcher.statuses) - welcomed
    # One per interval; one more begun (by the watcher's own arrival) before the joins, one more for a status
    # on its way when the clock stopped. One per gateway per interval would be twice as many.
    assert told <= elapsed / STATUS_INTERVAL_S + 3, f"{told} statuses in {elapsed:.2f} s"
    for client in (watcher, *joined):
        await client.disconnect()


async def test_a_paused_talk_gives_its_transcriber_back_and_takes_one_again_on_either_gateway(
    services: Deployment,
) -> None:
    """Paused past ``CAPTIONS_PAUSED_RELEASE_S``, the room's transcriber lets it go (its lease goes); resumed on
    the other gateway, the same session takes a transcriber again and its captions continue."""
    a, b = services.gateways
    room = await create_room(a)
    lease = redis_keys.lease(room["id"])
    redis = aioredis.Redis.from_url(services.redis.url)
    try:
        speaker = await presenter(a, room).connect()
        await speaker.emit("text", {"kind": "final", "text": "Before the break."})
        await speaker.wait_for(lambda: len(speaker.finals) == 1)
        assert await redis.exists(lease), "a live session has a transcriber"
        await speaker.emit("pause")
        await speaker.wait_for(lambda: speaker.session == "paused")
        deadline = time.monotonic() + 15
        while await redis.exists(lease):  # the transcriber lets the room go once the gateway says so
            assert time.monotonic() < deadline, "the paused session kept its transcriber"
            await asyncio.sleep(0.1)
        await speaker.disconnect()
        back = await presenter(b, room).connect()
        await back.emit("text", {"kind": "final", "text": "After the break."})
        await back.wait_for(lambda: len(back.finals) == 2)
        assert [c["id"].rpartition(":")[2] for c in back.finals] == ["0", "1"], "the same session goes on"
        assert back.finals[0]["session_id"] == back.finals[1]["session_id"]
        assert await redis.exists(lease), "it has a transcriber again"
        await back.emit("stop")
        await back.wait_for(back.ended)
        await back.disconnect()
    finally:
        await redis.aclose()


async def test_a_killed_transcribers_room_goes_on_without_gap_or_repeat_for_viewers_and_zoom(
    services: Deployment, speech: SpeechCorpus
) -> None:
    """The room's Zoom captions too: one sender per room and destination, handed over with the room, so Zoom's
    seq goes on without a gap or a repeat and every word reaches Zoom once."""
    zoom = await FakeZoom().start()
    try:
        on_b, speaker, talk = await talk_with_a_viewer_on_b(
            services, speech, partial(send_to_zoom, services, zoom)
        )
        # Mid-talk, past a sentence end: the owner has settled (acknowledged) the audio of the first sentences.
        await on_b.wait_for(lambda: len(on_b.finals) >= 8, within_s=30)
        assert zoom.received, "Zoom had captions before the kill"
        owner = await services.owner(speaker.auth["room"])
        finals_before = len(on_b.finals)
        owner.kill()
        survivor = next(t for t in services.transcribers if t is not owner)
        await on_b.wait_for(lambda: len(on_b.finals) > finals_before + 1, within_s=20)
        assert (await services.owner(speaker.auth["room"])) is survivor
        stored = await end_and_check(services, speech, on_b, speaker, talk)
        words = " ".join(caption["text"] for caption in stored).split()
        await until(lambda: len(" ".join(zoom.texts).split()) >= len(words), "Zoom has the whole talk")
        assert " ".join(zoom.texts).split() == words
        assert [entry.seq for entry in zoom.received] == list(range(1, len(zoom.received) + 1))
        assert zoom.refused == [], "no caption was sent under a seq Zoom had taken"
    finally:
        await zoom.stop()


async def send_to_zoom(services: Deployment, zoom: FakeZoom, room: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=services.gateways[1].url, timeout=10) as http:
        saved = await http.put(
            f"/api/rooms/{room['id']}/destinations",
            json={"destinations": [{"kind": "zoom", "url": zoom.url}]},
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
    assert saved.status_code == 200, saved.text


async def test_viewers_of_a_killed_gateway_reconnect_and_miss_nothing(
    services: Deployment, speech: SpeechCorpus
) -> None:
    a, b = services.gateways
    room = await create_room(a)
    steady = await viewer(a, room["id"]).connect()
    movers = [await viewer(b, room["id"]).connect() for _ in range(2)]
    speaker = await presenter(a, room).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    await movers[0].wait_for(lambda: len(movers[0].finals) >= 2, within_s=30)
    b.kill()
    for mover in movers:
        await mover.wait_for(partial(disconnected, mover), within_s=10)
    await asyncio.sleep(2.0)  # captions go on while they are away
    to_a = await viewer(a, room["id"], last_id=movers[0].last_id).connect()
    await asyncio.to_thread(b.start)
    back_on_b = await viewer(b, room["id"], last_id=movers[1].last_id).connect()
    await finish_talk(speaker, talk, [steady, to_a, back_on_b])
    stored = await stored_finals(a, room["id"])
    for before, after in ((movers[0], to_a), (movers[1], back_on_b)):
        await after.wait_for(partial(finals_at_least, len(stored), before, after))
        assert texts(before.finals + after.finals) == texts(stored), "nothing lost, nothing twice"
    assert texts(steady.finals) == texts(stored)
    for client in (steady, to_a, back_on_b, speaker):
        await client.disconnect()


async def test_captions_resume_after_redis_restarts_mid_talk(
    services: Deployment, speech: SpeechCorpus
) -> None:
    on_b, speaker, talk = await talk_with_a_viewer_on_b(services, speech)
    await on_b.wait_for(lambda: len(on_b.finals) >= 2, within_s=30)
    await asyncio.to_thread(services.server.restart, 1.0)
    finals_at_restart = texts(on_b.finals)
    await on_b.wait_for(lambda: len(on_b.finals) > len(finals_at_restart) + 1, within_s=30)
    stored = await end_and_check(services, speech, on_b, speaker, talk)
    assert texts(stored)[: len(finals_at_restart)] == finals_at_restart, "nothing final is lost"


async def test_deleting_a_room_on_one_gateway_closes_it_everywhere(
    services: Deployment, speech: SpeechCorpus
) -> None:
    on_b, speaker, talk = await talk_with_a_viewer_on_b(services, speech)
    room_id = speaker.auth["room"]
    await on_b.wait_for(lambda: len(on_b.finals) >= 2, within_s=30)
    async with httpx.AsyncClient(base_url=services.gateways[0].url, timeout=10) as http:
        deleted = await http.delete(f"/api/rooms/{room_id}", headers={"X-Presenter-Key": speaker.auth["key"]})
        assert deleted.status_code == 204
    for client in (on_b, speaker):
        await client.error("room_deleted")
        await client.wait_for(partial(disconnected, client), within_s=10)
    talk.cancel()
    redis = aioredis.Redis.from_url(services.redis.url)
    try:
        # The room's event stream keeps only its deletion (for a gateway filling a gap), and a tombstone refuses
        # what was in flight for it; both expire.
        events, seq = redis_keys.events(room_id).encode(), redis_keys.events_seq(room_id).encode()
        tombstone = redis_keys.deleted(room_id).encode()

        async def room_keys() -> list[Any]:
            keys: list[Any] = await redis.keys(f"*{room_id}*")
            members: set[Any] = await redis.smembers(redis_keys.UNOWNED)
            kept = (events, seq, tombstone)
            return [k for k in keys if k not in kept] + [m for m in members if m == room_id.encode()]

        for _ in range(100):  # the owner drops the room when its delete input arrives
            if not await room_keys():
                break
            await asyncio.sleep(0.1)
        assert await room_keys() == [], "nothing of the room stays in Redis"
        kept: Any = await redis.xrange(events)
        assert [fields[b"name"] for _, fields in kept] == [b"deleted"]
        for key in (events, seq, tombstone):
            assert 0 < await redis.ttl(key) <= Settings().redis_events_age_s
    finally:
        await redis.aclose()
    async with httpx.AsyncClient(base_url=services.gateways[1].url, timeout=10) as http:
        assert (await http.get(f"/api/rooms/{room_id}/transcript.json")).status_code == 404
    for transcriber in services.transcribers:
        assert "FOREIGN KEY" not in transcriber.log.read_text()


async def test_rotating_a_viewer_token_on_one_gateway_lets_go_of_its_holders_everywhere(
    services: Deployment,
) -> None:
    a, b = (gateway.url for gateway in services.gateways[:2])
    async with httpx.AsyncClient(base_url=a, timeout=10) as http:
        room = (await http.post("/api/rooms", json={"title": "Board", "private": True})).json()
    room_id, token = room["id"], room["viewer_token"]
    on_b = await Client(b, {"room": room_id, "role": "viewer", "token": token}).connect()
    await on_b.wait_for(lambda: bool(on_b.statuses))
    async with httpx.AsyncClient(base_url=a, timeout=10) as http:
        rotated = await http.post(f"/api/rooms/{room_id}/rotate", json={"presenter_key": False, "viewer_token": True},
                                  headers={"X-Presenter-Key": room["presenter_key"]})  # fmt: skip
    assert rotated.status_code == 200, rotated.text
    await on_b.error("credentials_rotated")
    await on_b.wait_for(partial(disconnected, on_b), within_s=10)
    ws = await open_socket(b, "127.0.0.1")
    refused = await join(ws, {"room": room_id, "role": "viewer", "token": token})
    await ws.close()
    assert json.loads(refused[2:])["data"]["code"] == "private_room", refused
    again = await Client(
        b, {"room": room_id, "role": "viewer", "token": rotated.json()["viewer_token"]}
    ).connect()
    await again.disconnect()

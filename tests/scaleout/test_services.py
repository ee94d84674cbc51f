"""The scale-out deployment as real processes: two gateways and two transcribers on one real redis-server.

A presenter on gateway A streams a recording in real time; viewers on both gateways read along while
transcribers, gateways and Redis fail under them. The store is one SQLite file shared by the processes (no
MongoDB server can run here; the Mongo store passes the same contract suite against a fake).
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from captions.asr.words import repeats_itself
from captions.bus.redis_inputs import lease_key
from tests.support.harness import Client, create_room, pcm_frames, presenter, stored_finals, stream, viewer
from tests.support.processes import CaptionsProcess, RedisServer
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

RECORDING = "talk.wav"
# What the uninterrupted engine gets on real speech, with room for a re-decoded boundary; tuned on no file.
MAX_WER = 0.15


class Deployment:
    def __init__(self, folder: Path) -> None:
        self.redis = RedisServer(folder / "redis")
        env = {
            "REDIS_URL": self.redis.url,
            "CAPTIONS_DATA_DIR": str(folder / "data"),
            "CAPTIONS_WEB_DIR": str(folder / "no-web-build"),
            "CAPTIONS_LEASE_S": "2",
            "CAPTIONS_STATUS_INTERVAL_S": "0.2",
            "CAPTIONS_NUM_WORKERS": "1",
        }
        self.gateways = [CaptionsProcess("gateway", env, folder, f"gateway-{x}") for x in "ab"]
        self.transcribers = [CaptionsProcess("transcriber", env, folder, f"transcriber-{n}") for n in (1, 2)]

    def start(self) -> None:
        self.redis.start()
        self.ensure_running()

    def ensure_running(self) -> None:
        for process in [*self.gateways, *self.transcribers]:
            if not process.running:
                process.start()

    def stop(self) -> None:
        for process in [*self.gateways, *self.transcribers]:
            process.stop()
        self.redis.stop()

    async def owner(self, room_id: str) -> CaptionsProcess:
        client = aioredis.Redis.from_url(self.redis.url)
        try:
            name = await client.get(lease_key(room_id))
        finally:
            await client.aclose()
        assert isinstance(name, bytes), "a live room has an owner"
        return next(t for t in self.transcribers if t.name == name.decode())


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


def texts(finals: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["id"], c["text"]) for c in finals]


def assert_one_clean_transcript(finals: list[dict[str, Any]], speech: SpeechCorpus) -> None:
    """Numbered without gaps, in time order, nothing said twice, and what was said."""
    assert [int(c["id"].rpartition(":")[2]) for c in finals] == list(range(len(finals)))
    for before, after in itertools.pairwise(finals):
        assert after["start"] >= before["end"] - 0.1, f"{after} overlaps {before}"
    words = normalise(" ".join(c["text"] for c in finals)).split()
    assert not repeats_itself(words), " ".join(words)
    assert word_error_rate(speech.reference(RECORDING), " ".join(words)) <= MAX_WER, " ".join(words)


def finals_at_least(count: int, *clients: Client) -> bool:
    return sum(len(client.finals) for client in clients) >= count


def disconnected(client: Client) -> bool:
    return not client.sio.connected


async def talk_with_a_viewer_on_b(
    services: Deployment, speech: SpeechCorpus
) -> tuple[Client, Client, asyncio.Task[None]]:
    """A presenter on gateway A starts the recording; a viewer reads on gateway B."""
    a, b = services.gateways
    room = await create_room(a)
    on_b = await viewer(b, room["id"]).connect()
    speaker = await presenter(a, room).connect()
    return on_b, speaker, asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING))))


async def end_and_check(services: Deployment, speech: SpeechCorpus, on_b: Client, speaker: Client,
                        talk: asyncio.Task[None]) -> list[dict[str, Any]]:  # fmt: skip
    """Finish the talk; the viewer on B has exactly the stored transcript, and it is clean."""
    await finish_talk(speaker, talk, [on_b])
    stored = await stored_finals(services.gateways[1], speaker.auth["room"])
    await on_b.wait_for(partial(finals_at_least, len(stored), on_b))
    assert texts(on_b.finals) == texts(stored)
    assert_one_clean_transcript(stored, speech)
    for client in (on_b, speaker):
        await client.disconnect()
    return stored


async def finish_talk(speaker: Client, talk: asyncio.Task[None], readers: list[Client]) -> None:
    await talk
    await speaker.emit("stop")
    for client in readers:
        await client.wait_for(client.ended)


async def test_viewers_on_both_gateways_read_the_presenter_on_one(
    services: Deployment, speech: SpeechCorpus
) -> None:
    a, b = services.gateways
    room = await create_room(a)
    on_a = await viewer(a, room["id"]).connect()
    on_b = await viewer(b, room["id"]).connect()
    speaker = await presenter(a, room).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING))))
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


async def test_a_killed_transcribers_room_goes_on_without_gap_or_repeat(
    services: Deployment, speech: SpeechCorpus
) -> None:
    on_b, speaker, talk = await talk_with_a_viewer_on_b(services, speech)
    # Mid-talk, past a sentence end: the owner has settled (acknowledged) the audio of the first sentences.
    await on_b.wait_for(lambda: len(on_b.finals) >= 8, within_s=30)
    owner = await services.owner(speaker.auth["room"])
    finals_before = len(on_b.finals)
    owner.kill()
    survivor = next(t for t in services.transcribers if t is not owner)
    await on_b.wait_for(lambda: len(on_b.finals) > finals_before + 1, within_s=20)
    assert (await services.owner(speaker.auth["room"])) is survivor
    await end_and_check(services, speech, on_b, speaker, talk)


async def test_viewers_of_a_killed_gateway_reconnect_and_miss_nothing(
    services: Deployment, speech: SpeechCorpus
) -> None:
    a, b = services.gateways
    room = await create_room(a)
    steady = await viewer(a, room["id"]).connect()
    movers = [await viewer(b, room["id"]).connect() for _ in range(2)]
    speaker = await presenter(a, room).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING))))
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
    await asyncio.to_thread(services.redis.restart, 1.0)
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

        async def room_keys() -> list[Any]:
            keys: list[Any] = await redis.keys(f"*{room_id}*")
            members: set[Any] = await redis.smembers("captions:rooms")
            return keys + [m for m in members if m == room_id.encode()]

        for _ in range(100):  # the owner drops the room when its delete input arrives
            if not await room_keys():
                break
            await asyncio.sleep(0.1)
        assert await room_keys() == [], "nothing of the room stays in Redis"
    finally:
        await redis.aclose()
    async with httpx.AsyncClient(base_url=services.gateways[1].url, timeout=10) as http:
        assert (await http.get(f"/api/rooms/{room_id}/transcript.json")).status_code == 404
    for transcriber in services.transcribers:
        assert "FOREIGN KEY" not in transcriber.log.read_text()

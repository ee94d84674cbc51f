"""A scaled-out deployment as real processes (2 gateways, 2 transcribers, on a redis-server or a Redis
Cluster), and what the tests check of a talk through it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as ClusterClient

from captions import redis_keys
from captions.asr.words import repeats_itself
from tests.support.harness import Client, create_room, pcm_frames, presenter, stored_finals, stream, viewer
from tests.support.processes import CaptionsProcess, RedisCluster, RedisServer
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

RECORDING = "talk.wav"
# Twice as fast as spoken (the presenter's audio budget allows it): what these tests check does not depend on the
# pace, and the suite's time does.
SPEED = 2.0
STATUS_INTERVAL_S = 0.2
PAUSED_RELEASE_S = 1.0  # a paused session gives its transcriber back this soon
# What the uninterrupted engine gets on real speech, with room for a re-decoded boundary; tuned on no file.
MAX_WER = 0.15


class Deployment:
    def __init__(
        self,
        folder: Path,
        redis: RedisServer | RedisCluster | None = None,
        gateway_settings: dict[str, str] | None = None,
    ) -> None:
        self.redis = redis or RedisServer(folder / "redis")
        self.cluster = isinstance(self.redis, RedisCluster)
        env = {
            "REDIS_URL": self.redis.url,
            "CAPTIONS_REDIS_CLUSTER": str(self.cluster).lower(),
            "CAPTIONS_DATA_DIR": str(folder / "data"),
            "CAPTIONS_WEB_DIR": str(folder / "no-web-build"),
            "CAPTIONS_LEASE_S": "2",
            "CAPTIONS_STATUS_INTERVAL_S": str(STATUS_INTERVAL_S),
            "CAPTIONS_NUM_WORKERS": "1",
            "CAPTIONS_PAUSED_RELEASE_S": str(PAUSED_RELEASE_S),
            "CAPTIONS_SECRETS_KEY": "deployment-test-secrets-key",
            "CAPTIONS_DESTINATIONS_ALLOW_PRIVATE": "true",  # destinations are local fakes
            "CAPTIONS_DESTINATION_TIMEOUT_S": "1",
        }
        gateway_env = {**env, **(gateway_settings or {})}
        self.gateways = [CaptionsProcess("gateway", gateway_env, folder, f"gateway-{x}") for x in "ab"]
        self.transcribers = [CaptionsProcess("transcriber", env, folder, f"transcriber-{n}") for n in (1, 2)]

    @property
    def server(self) -> RedisServer:
        """The one redis-server (a deployment not on a cluster)."""
        assert isinstance(self.redis, RedisServer)
        return self.redis

    def start(self) -> None:
        if not self.cluster:
            self.redis.start()
        self.ensure_running()

    def ensure_running(self) -> None:
        for process in [*self.gateways, *self.transcribers]:
            if not process.running:
                process.start()

    def stop(self) -> None:
        for process in [*self.gateways, *self.transcribers]:
            process.stop()
        if not self.cluster:
            self.redis.stop()

    async def owner(self, room_id: str) -> CaptionsProcess:
        client = (
            ClusterClient.from_url(self.redis.url)
            if self.cluster
            else aioredis.Redis.from_url(self.redis.url)
        )
        try:
            name = await client.get(redis_keys.lease(room_id))
        finally:
            await client.aclose()
        assert isinstance(name, bytes), "a live room has an owner"
        return next(t for t in self.transcribers if t.name == name.decode())


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
    services: Deployment,
    speech: SpeechCorpus,
    prepare: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> tuple[Client, Client, asyncio.Task[None]]:
    """A presenter on gateway A starts the recording (once ``prepare`` has set the room up); a viewer reads on
    gateway B."""
    a, b = services.gateways
    room = await create_room(a)
    if prepare is not None:
        await prepare(room)
    on_b = await viewer(b, room["id"]).connect()
    speaker = await presenter(a, room).connect()
    return (
        on_b,
        speaker,
        asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED)),
    )


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

"""The scaled-out services on a real Redis Cluster (3 masters, 3 replicas): 2 gateways, 2 transcribers, a talk
of real speech while the node holding the room's slot fails over, is killed, and hands the slot to another
master. No process is restarted; every final reaches every viewer once, in order, as stored."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from functools import partial

import pytest

from captions import redis_keys
from tests.support.deployment import (
    RECORDING,
    Deployment,
    assert_one_clean_transcript,
    finals_at_least,
    finish_talk,
    texts,
)
from tests.support.harness import Client, create_room, pcm_frames, presenter, stored_finals, stream, viewer
from tests.support.processes import RedisCluster
from tests.support.speech import SpeechCorpus


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """The module's own cluster: its tests fail over, kill and reshard its nodes (the others still serve)."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt-get)")
    started = RedisCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def deployment(cluster: RedisCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = Deployment(tmp_path_factory.mktemp("deployment"), cluster)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
async def on_cluster(deployment: Deployment) -> Deployment:
    await asyncio.to_thread(deployment.ensure_running)
    return deployment


def shard_subscribers(cluster: RedisCluster, room_id: str) -> int:
    """How many connections subscribe to the room's channel, as the node serving it counts them."""
    channel = redis_keys.live_channel(room_id)
    master = cluster.master_of(cluster.slot_of(channel))
    counts = cluster.client(master).execute_command("PUBSUB SHARDNUMSUB", channel)
    [(_, count)] = counts
    return int(count)


async def test_a_talk_survives_failover_kill_and_resharding_of_its_slot(
    on_cluster: Deployment, cluster: RedisCluster, speech: SpeechCorpus
) -> None:
    a, b = on_cluster.gateways
    room = await create_room(a)
    room_id = room["id"]
    slot = cluster.slot_of(redis_keys.audio(room_id))
    assert {cluster.slot_of(key(room_id)) for key in (redis_keys.events, redis_keys.lease, redis_keys.session,
                                                      redis_keys.presence, redis_keys.live_channel)} == {slot}  # fmt: skip
    on_a = await viewer(a, room_id).connect()
    on_b = await viewer(b, room_id).connect()
    speaker = await presenter(a, room).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING))))
    readers = [on_a, on_b]

    async def progress(more: int) -> None:
        """Until both viewers have ``more`` finals than now: captions flow again."""
        wanted = [len(reader.finals) + more for reader in readers]
        for reader, count in zip(readers, wanted, strict=True):
            await reader.wait_for(partial(finals_at_least, count, reader), within_s=30)

    await progress(2)
    await asyncio.to_thread(cluster.fail_over, slot)
    await progress(2)
    await asyncio.to_thread(cluster.kill_master, slot)
    await progress(2)
    await asyncio.to_thread(cluster.migrate, slot)
    await progress(1)
    await finish_talk(speaker, talk, readers)
    stored = await stored_finals(b, room_id)
    for client in [*readers, speaker]:
        await client.wait_for(partial(finals_at_least, len(stored), client))
        assert texts(client.finals) == texts(stored), "every final once, in order, as stored"
    assert_one_clean_transcript(stored, speech)
    for client in [*readers, speaker]:
        await client.disconnect()


async def test_a_gateway_subscribes_only_to_the_rooms_its_clients_are_in(
    on_cluster: Deployment, cluster: RedisCluster
) -> None:
    a, b = on_cluster.gateways
    both, only_a = await create_room(a), await create_room(a)
    clients: list[Client] = [
        await viewer(a, both["id"]).connect(),
        await viewer(b, both["id"]).connect(),
        await viewer(a, only_a["id"]).connect(),
        await viewer(a, only_a["id"]).connect(),
    ]
    assert shard_subscribers(cluster, both["id"]) == 2, "one subscription per gateway serving it"
    assert shard_subscribers(cluster, only_a["id"]) == 1, "gateway B does not read a room it does not serve"
    for client in clients:
        await client.disconnect()

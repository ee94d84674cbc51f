"""Redis Cluster benchmark (part of ``make bench``; issue #27), on a real Redis Cluster of 3 masters and 3
replicas started here.

1. **A gateway's cost against rooms it does not serve.** One ``captions gateway`` hosts one room with viewers
   (its events published at 5 a second); 0, 100 and 1,000 other live rooms publish 5 events a second each through
   the bus. Target: the gateway's CPU and the bytes it reads (``/proc/PID/io``, every socket: Redis and its
   viewers) at 1,000 other rooms within 10 % of the 0-room run.
2. **Redis commands per audio frame and per caption event**, as the nodes saw them (``MONITOR`` on every master,
   counting the commands of the gateway's and the transcriber's own connections, found by their client names): a
   presenter streams real-time audio frames while a ``captions transcriber`` transcribes them. Target: at most 1
   round trip per frame and no global key. The Redis CPU of each script (``INFO commandstats``) feeds the
   README's capacity model.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from redis.asyncio.cluster import RedisCluster as ClusterClient

from captions.bus.events import RoomEvent
from captions.bus.redis_events import RedisRoomEvents
from captions.protocol import Caption
from captions.redis_client import Retrying
from captions.settings import Settings
from tests.bench.server import cpu_of, save_results
from tests.support.deployment import finals_at_least
from tests.support.harness import create_room, pcm_frames, presenter, stream, viewer
from tests.support.processes import CaptionsProcess, RedisCluster
from tests.support.speech import find_corpus

OTHER_ROOMS = (0, 100, 1000)
EVENTS_PER_S = 5
WINDOW_S = float(os.environ.get("CLUSTER_WINDOW_S", "20"))
VIEWERS = 20
FRAMES = 100
WARM_UP_FRAMES = 10
TARGET_GROWTH = 0.10
GATEWAY = "gateway-bench"
TRANSCRIBER = "transcriber-bench"
PUBLISH_BATCH = 100  # publishes in flight at once (the bench's connection pool)
PUBLISHERS = 2


def bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise LookupError("rchar")


def caption(room: str, n: int) -> RoomEvent:
    text = f"words of caption number {n} in a room that is talking right now"
    return RoomEvent.caption(
        room, Caption(id=f"s:{n}", kind="final", text=text, start=n, end=n + 1, session_id="s")
    )


async def publish_for(url: str, rooms: list[str], seconds: float) -> int:
    """Every room publishes ``EVENTS_PER_S`` a second through the bus, spread over each second; the number
    published."""
    client = ClusterClient.from_url(url, max_connections=4 * PUBLISH_BATCH)
    events = RedisRoomEvents(client, Settings(redis_url=url, redis_cluster=True), Retrying(10))
    await client.initialize()  # once, before a hundred publishes at once would each start it
    published, started, tick = 0, time.monotonic(), 0
    interval = 1 / EVENTS_PER_S
    try:
        while time.monotonic() - started < seconds:
            for first in range(0, len(rooms), PUBLISH_BATCH):
                await asyncio.gather(
                    *(events.publish(caption(room, tick)) for room in rooms[first : first + PUBLISH_BATCH])
                )
            published += len(rooms)
            tick += 1
            await asyncio.sleep(max(0.0, started + tick * interval - time.monotonic()))
    finally:
        await events.close()
        await client.aclose()
    return published


def publish_from_a_process(url: str, rooms: list[str], seconds: float) -> int:
    try:
        return asyncio.run(publish_for(url, rooms, seconds))
    except Exception as error:  # redis-py's errors hold locks: they cannot be sent back to the benchmark
        raise RuntimeError(f"publisher: {error!r}") from None


async def publish_everywhere(pool: ProcessPoolExecutor, url: str, rooms: list[str], seconds: float) -> int:
    """One Python process publishes about 2,500 events a second: the rooms are shared out among
    ``PUBLISHERS`` processes."""
    loop = asyncio.get_running_loop()
    shares = [rooms[n::PUBLISHERS] for n in range(PUBLISHERS)]
    published = await asyncio.gather(
        *(
            loop.run_in_executor(pool, publish_from_a_process, url, share, seconds)
            for share in shares
            if share
        )
    )
    return sum(published)


async def gateway_cost(cluster: RedisCluster, gateway: CaptionsProcess) -> list[dict[str, Any]]:
    pool = ProcessPoolExecutor(PUBLISHERS, mp_context=multiprocessing.get_context("spawn"))
    room = await create_room(gateway)
    viewers = [await viewer(gateway, room["id"]).connect() for _ in range(VIEWERS)]
    rows = []
    try:
        for others in OTHER_ROOMS:
            rooms = [room["id"]] + [f"other-{others}-{n}" for n in range(others)]
            last = viewers[-1]
            before = len(last.finals)
            cpu, read = cpu_of(gateway.pid), bytes_read(gateway.pid)
            published = await publish_everywhere(pool, cluster.url, rooms, WINDOW_S)
            served = published // len(rooms)
            await last.wait_for(partial(finals_at_least, before + served, last))
            cpu, read = cpu_of(gateway.pid) - cpu, bytes_read(gateway.pid) - read
            rows.append({"other_rooms": others, "events_per_s": round(published / WINDOW_S),
                         "gateway_cpu_s": round(cpu, 3), "gateway_bytes_read": read})  # fmt: skip
            print(
                f"  {others} other rooms: gateway CPU {cpu:.2f} s, read {read / 1e6:.2f} MB", file=sys.stderr
            )
    finally:
        for client_ in viewers:
            await client_.disconnect()
        pool.shutdown()
    return rows


class Monitor:
    """MONITOR on every master: the commands of connections named ``captions:NAME``."""

    MARK = "captions-bench-monitor-on"

    def __init__(self, cluster: RedisCluster) -> None:
        self._cluster = cluster
        self.lines: list[tuple[str, str, str]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._on: list[threading.Event] = []
        self._seen = threading.Condition()

    def start(self) -> None:
        """Returns once every master's MONITOR sees commands (it has seen a marker sent after it started)."""
        for client in masters(self._cluster):
            on = threading.Event()
            thread = threading.Thread(target=self._watch, args=(client, on), daemon=True)
            thread.start()
            self._threads.append(thread)
            self._on.append(on)
        for client, on in zip(masters(self._cluster), self._on, strict=True):
            while not on.is_set():
                client.echo(self.MARK)
                on.wait(0.1)

    def _watch(self, client: Any, on: threading.Event) -> None:
        with client.monitor() as monitor:
            for command in monitor.listen():
                if self._stop.is_set():
                    return
                if self.MARK in command["command"]:
                    on.set()
                    continue
                if command.get("client_type") == "lua":
                    continue
                args = command["command"].split(" ")
                with self._seen:
                    self.lines.append((command["client_address"] + ":" + command["client_port"], args[0].upper(),
                                       args[1] if len(args) > 1 else ""))  # fmt: skip
                    self._seen.notify_all()

    def stop(self) -> None:
        self._stop.set()
        for client in masters(self._cluster):  # a command wakes each monitor up
            client.ping()

    def addresses(self, name: str) -> set[str]:
        return {connection["addr"] for node in self._cluster.living()
                for connection in self._cluster.client(node).execute_command("CLIENT LIST")
                if connection.get("name") == f"captions:{name}"}  # fmt: skip

    def of(self, addresses: set[str]) -> Counter[str]:
        with self._seen:
            return self._of(addresses)

    def wait_for_most(self, addresses: set[str], count: int, timeout_s: float) -> None:
        """Until one command of these connections was seen ``count`` times."""
        with self._seen:
            if not self._seen.wait_for(
                lambda: max(self._of(addresses).values(), default=0) >= count, timeout_s
            ):
                raise TimeoutError(f"fewer than {count} of one command")

    def _of(self, addresses: set[str]) -> Counter[str]:
        return Counter(f"{command} {key}" for address, command, key in self.lines if address in addresses)


def masters(cluster: RedisCluster) -> list[Any]:
    return [cluster.client(node) for node in cluster.living()
            if cluster.client(node).execute_command("ROLE")[0] == "master"]  # fmt: skip


def reset_stats(cluster: RedisCluster) -> None:
    for client in masters(cluster):
        client.config_resetstat()


def script_cost(cluster: RedisCluster) -> dict[str, float]:
    """Scripts run on the masters since the last reset, and the Redis CPU each took (``INFO commandstats``)."""
    calls, usec = 0, 0
    for client in masters(cluster):
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
        calls, usec = calls + int(stats.get("calls", 0)), usec + int(stats.get("usec", 0))
    return {"scripts": calls, "usec_per_script": round(usec / max(calls, 1), 1)}


async def commands_per_frame(cluster: RedisCluster, gateway: CaptionsProcess) -> dict[str, Any]:
    corpus = find_corpus()
    if corpus is None:
        raise SystemExit("no speech recordings found")
    frames = pcm_frames(corpus.path("talk.wav"))[: WARM_UP_FRAMES + FRAMES]
    room = await create_room(gateway)
    speaker = await presenter(gateway, room).connect()
    await speaker.emit("start")
    await speaker.wait_for(lambda: any(s["session"] == "live" for s in speaker.statuses))
    # The first frames load the scripts into their node (a NOSCRIPT answer, SCRIPT LOAD, the script again).
    await stream(speaker, frames[:WARM_UP_FRAMES])
    monitor = Monitor(cluster)
    await asyncio.to_thread(monitor.start)
    gateway_at = await asyncio.to_thread(monitor.addresses, GATEWAY)
    transcriber_at = await asyncio.to_thread(monitor.addresses, TRANSCRIBER)
    events_before = len(speaker.captions)
    await stream(speaker, frames[WARM_UP_FRAMES:], first_seq=WARM_UP_FRAMES)
    sent = len(frames) - WARM_UP_FRAMES

    # The last frame's command is in: the gateway's commonest one, once a frame.
    await asyncio.to_thread(monitor.wait_for_most, gateway_at, sent, 30)
    await asyncio.to_thread(monitor.stop)
    seen = monitor.of(gateway_at)
    transcriber = monitor.of(transcriber_at)
    events = len(speaker.captions) - events_before
    await speaker.disconnect()
    total = sum(seen.values())
    room_tag = "{" + room["id"] + "}"
    # What comes with every frame (at least every other one), not the heartbeat and sweeps of a gateway.
    per_frame = {line: count for line, count in seen.items() if count >= sent / 2}
    global_keys = sorted(
        line for line in per_frame if room_tag not in line and not line.startswith("EVALSHA")
    )
    return {"frames": sent, "commands": dict(seen.most_common()),
            "per_frame": round(sum(per_frame.values()) / sent, 2), "all_per_frame": round(total / sent, 2),
            "global_keys": global_keys, "caption_events": events,
            "transcriber_commands": dict(transcriber.most_common()),
            "transcriber_per_event": round(sum(transcriber.values()) / max(events, 1), 2)}  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        print("  a Redis Cluster of 3 masters and 3 replicas, one gateway ...", file=sys.stderr, flush=True)
        cluster = RedisCluster(folder / "cluster").start()
        env = {"REDIS_URL": cluster.url, "CAPTIONS_REDIS_CLUSTER": "true", "CAPTIONS_DATA_DIR": str(folder / "data"),
               "CAPTIONS_WEB_DIR": str(folder / "none"), "CAPTIONS_TRUSTED_PROXIES": '["127.0.0.1"]'}  # fmt: skip
        gateway = CaptionsProcess("gateway", env, folder, GATEWAY)
        transcriber = CaptionsProcess("transcriber", env, folder, TRANSCRIBER)
        try:
            gateway.start()
            reset_stats(cluster)
            rows = asyncio.run(gateway_cost(cluster, gateway))
            publish_cost = script_cost(cluster)  # the publishes, all but a few heartbeats
            transcriber.start()
            reset_stats(cluster)
            frames = asyncio.run(commands_per_frame(cluster, gateway))
            frames["scripts"] = script_cost(cluster)
        finally:
            transcriber.stop()
            gateway.stop()
            cluster.stop()
    base = rows[0]
    print("\nA gateway's cost against rooms it does not serve (one served room, "
          f"{VIEWERS} viewers; every room {EVENTS_PER_S} events/s; {WINDOW_S:.0f} s each)")  # fmt: skip
    print(
        "| other rooms | events/s through the bus | gateway CPU | vs 0 | bytes read by the gateway | vs 0 |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    missed = []
    for row in rows:
        cpu_ratio = row["gateway_cpu_s"] / max(base["gateway_cpu_s"], 1e-9)
        read_ratio = row["gateway_bytes_read"] / max(base["gateway_bytes_read"], 1)
        print(f"| {row['other_rooms']} | {row['events_per_s']} | {row['gateway_cpu_s']:.2f} s | {cpu_ratio:.2f}x | "
              f"{row['gateway_bytes_read'] / 1e6:.2f} MB | {read_ratio:.2f}x |")  # fmt: skip
        if row["other_rooms"] == max(OTHER_ROOMS) and max(cpu_ratio, read_ratio) > 1 + TARGET_GROWTH:
            missed.append(f"gateway cost at {row['other_rooms']} other rooms: {cpu_ratio:.2f}x CPU, "
                          f"{read_ratio:.2f}x bytes (target <= {1 + TARGET_GROWTH:.1f}x)")  # fmt: skip
    print(
        f"\nRedis commands of the gateway per audio frame ({frames['frames']} frames, MONITOR on every master): "
        f"{frames['per_frame']} (target <= 1 round trip); global keys touched: {frames['global_keys'] or 'none'}"
    )
    for line, count in frames["commands"].items():
        print(f"  {count:5d}  {line}")
    print(f"\nRedis commands of the transcriber per caption event ({frames['caption_events']} partials and finals): "
          f"{frames['transcriber_per_event']} (the publish script, plus reading, acknowledging and lease renewal)")  # fmt: skip
    for line, count in frames["transcriber_commands"].items():
        print(f"  {count:5d}  {line}")
    print(
        f"\nRedis CPU per script (INFO commandstats): publish {publish_cost['usec_per_script']} us "
        f"({publish_cost['scripts']} scripts); with audio frames and publishes mixed "
        f"{frames['scripts']['usec_per_script']} us ({frames['scripts']['scripts']} scripts)"
    )
    if frames["per_frame"] > 1.0:
        missed.append(f"{frames['per_frame']} commands per audio frame (target <= 1)")
    if frames["global_keys"]:
        missed.append(f"global keys per frame: {frames['global_keys']}")
    save_results("cluster.json", {"gateway_cost": rows, "per_frame": frames, "publish_cost": publish_cost})
    for miss in missed:
        print(f"MISS: {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

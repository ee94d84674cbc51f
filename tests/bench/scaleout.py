"""Scale-out benchmark (part of ``make bench``).

1. Rooms: how many rooms one 2-core machine transcribes in real time with tiny.en int8. N presenters stream
   ``talk.wav`` at microphone pace into one engine (what one transcriber runs), starts staggered by 0.5 s;
   final latency per word (emission minus the word's end). Target: 6 or more rooms with p50 under 1.5 s.
2. Viewers: two ``captions gateway`` processes and one ``captions transcriber`` on a real redis-server; one room,
   the presenter on gateway A, 2000 viewers in four client processes spread over both gateways; browser-text
   captions stamped with their send time. Target: delivery p99 under 300 ms.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from captions.asr.engine import Engine
from captions.audio.pcm import load_audio
from captions.settings import Settings
from captions.simulation import simulate
from tests.bench.engine import percentile
from tests.bench.server import BENCH_ENV, fan_out, save_results
from tests.support.processes import CaptionsProcess, RedisServer
from tests.support.speech import corpus_for_bench

ROOM_COUNTS = (2, 4, 6, 8)
ROOMS_TARGET = 6
ROOMS_LATENCY_LIMIT_S = 1.5
STAGGER_S = 0.5
GATEWAY_VIEWERS = 2000


async def rooms_at_once(engine: Engine, audio: np.ndarray, rooms: int) -> dict[str, Any]:
    async def room(index: int) -> list[float]:
        await asyncio.sleep(index * STAGGER_S)
        events = await simulate(engine, audio, realtime=True)
        return [t.emitted_at - w.end for t in events if t.event.kind == "final" for w in t.event.words]

    latencies = [value for one in await asyncio.gather(*(room(i) for i in range(rooms))) for value in one]
    return {
        "rooms": rooms,
        "final_p50_s": round(percentile(latencies, 50), 2),
        "final_p95_s": round(percentile(latencies, 95), 2),
    }


def two_gateways(folder: Path) -> dict[str, Any]:
    redis = RedisServer(folder / "redis").start()
    env = {
        "REDIS_URL": redis.url,
        "CAPTIONS_DATA_DIR": str(folder / "data"),
        "CAPTIONS_WEB_DIR": str(folder / "none"),
        **BENCH_ENV,
    }
    processes = [
        CaptionsProcess("gateway", env, folder, "gateway-a"),
        CaptionsProcess("gateway", env, folder, "gateway-b"),
        CaptionsProcess("transcriber", env, folder, "transcriber"),
    ]
    try:
        for process in processes:
            process.start()
        a, b = processes[0], processes[1]
        pids = [process.pid for process in processes]
        return asyncio.run(fan_out(a.url, pids, GATEWAY_VIEWERS, viewer_urls=[a.url, b.url]))
    finally:
        for process in processes:
            process.stop()
        redis.stop()


def main() -> int:
    audio = load_audio(corpus_for_bench().path("talk.wav"))
    engine = Engine(Settings())
    asyncio.run(simulate(engine, audio[: 16_000 * 5], realtime=False))
    rooms = []
    for count in ROOM_COUNTS:
        print(f"  {count} rooms at once ...", file=sys.stderr, flush=True)
        rooms.append(asyncio.run(rooms_at_once(engine, audio, count)))
    engine.close()
    print("  2 gateways, 2000 viewers ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        viewers = two_gateways(Path(folder))

    print("\nRooms transcribed at once on this machine (talk.wav each, real time, one engine):")
    print(f"{'rooms':>6} {'final p50 s':>12} {'final p95 s':>12}")
    for row in rooms:
        print(f"{row['rooms']:6d} {row['final_p50_s']:12.2f} {row['final_p95_s']:12.2f}")
    keeping_up = [r["rooms"] for r in rooms if r["final_p50_s"] < ROOMS_LATENCY_LIMIT_S]
    capacity = max(keeping_up, default=0)
    verdict = "PASS" if capacity >= ROOMS_TARGET else "MISS"
    print(
        f"rooms with final p50 < {ROOMS_LATENCY_LIMIT_S} s: {capacity} (target >= {ROOMS_TARGET}): {verdict}"
    )
    print("\nFan-out across 2 gateways on Redis, one room (text captions, 4/s):")
    print(f"{'viewers':>8} {'delivered':>10} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>11}")
    row = viewers
    print(
        f"{row['viewers']:8d} {row['delivered']:>5}/{row['expected']:<5}"
        f"{row['p50_s'] * 1000:8.0f} {row['p99_s'] * 1000:8.0f} {row['server_cpu_cores']:10.2f}c"
    )
    verdict = "PASS" if row["p99_s"] < 0.3 else "MISS"
    print(f"2000 viewers on 2 gateways p99 {row['p99_s'] * 1000:.0f} ms (target < 300 ms): {verdict}")
    save_results("scaleout.json", {"rooms": rooms, "rooms_capacity": capacity, "two_gateways": viewers})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

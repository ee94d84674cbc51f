"""Scale-out benchmark (part of ``make bench``): two ``captions gateway`` processes and one ``captions
transcriber`` on a real redis-server; one room, the presenter on gateway A, 2000 viewers in four client processes
spread over both gateways; browser-text captions stamped with their send time. Targets: delivery p99 under
300 ms, and at most 1.0x the floor's (issue #17): two bare python-socketio servers on the same Redis through the
library's own ``AsyncRedisManager`` (``floor.py``), the same clients, taking turns ``FANOUT_ROUNDS`` times.

(How many rooms one machine transcribes is ``rooms.py``: through the server, a different programme per room.)
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.server import (
    BENCH_ENV,
    FANOUT_ROUNDS,
    Deployment,
    against_floor,
    create_room,
    fan_out_table,
    floor_room,
    running_floor,
    save_results,
)
from tests.support.processes import CaptionsProcess, RedisServer

GATEWAY_VIEWERS = 2000


@contextlib.contextmanager
def two_gateways(folder: Path, redis: RedisServer) -> Iterator[Deployment]:
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
        yield Deployment(
            a.url, [p.pid for p in processes], lambda organiser: create_room(a.url, organiser), [a.url, b.url]
        )
    finally:
        for process in processes:
            process.stop()


@contextlib.contextmanager
def two_floors(redis: RedisServer) -> Iterator[Deployment]:
    with running_floor(redis.url) as (a, a_process), running_floor(redis.url) as (b, b_process):
        yield Deployment(a, [a_process.pid, b_process.pid], floor_room, [a, b])


def main() -> int:
    print(f"  2 gateways and 2 bare servers, {GATEWAY_VIEWERS} viewers ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        # Redis as the deployment runs it (docker-compose.yml: append-only, fsynced every second).
        redis = RedisServer(Path(folder) / "redis", fsync="everysec").start()
        try:
            with two_gateways(Path(folder), redis) as product, two_floors(redis) as floor:
                row: dict[str, Any] = against_floor(product, floor, GATEWAY_VIEWERS)
        finally:
            redis.stop()

    print("\nFan-out across 2 gateways on Redis, one room (text captions, 4/s), and the floor (2 bare")
    print(
        f"python-socketio servers on the same Redis), taking turns {FANOUT_ROUNDS} times (the median round):"
    )
    fan_out_table([row])
    print(f"Session start (the presenter's Start until its status says live; a transcriber takes the room): "
          f"{row['session_start_s'] * 1000:.0f} ms")  # fmt: skip
    under = row["p99_s"] < 0.3
    at_floor = row["p99_ratio"] <= 1.0
    print(f"{GATEWAY_VIEWERS} viewers on 2 gateways p99 {row['p99_s'] * 1000:.0f} ms (target < 300 ms): "
          f"{'PASS' if under else 'MISS'}; {row['p99_ratio']:.2f}x the floor's (target <= 1.0x): "
          f"{'PASS' if at_floor else 'MISS'}")  # fmt: skip
    save_results("scaleout.json", {"two_gateways": row})
    return 0 if under and at_floor else 1


if __name__ == "__main__":
    raise SystemExit(main())

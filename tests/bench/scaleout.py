"""Scale-out benchmark (part of ``make bench``): two ``captions gateway`` processes and one ``captions
transcriber`` on a real redis-server; one room, the presenter on gateway A, 2000 viewers in four client processes
spread over both gateways; browser-text captions stamped with their send time. Target: delivery p99 under 300 ms.

(How many rooms one machine transcribes is ``rooms.py``: through the server, a different programme per room.
An engine-level count with the same recording in every room, which this file used to make, said 8 rooms fit
alike at every N and did not show what a server with several rooms delivers.)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.server import BENCH_ENV, fan_out, save_results
from tests.support.processes import CaptionsProcess, RedisServer

GATEWAY_VIEWERS = 2000


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
    print("  2 gateways, 2000 viewers ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        viewers = two_gateways(Path(folder))

    print("\nFan-out across 2 gateways on Redis, one room (text captions, 4/s):")
    print(f"{'viewers':>8} {'delivered':>10} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>11}")
    row = viewers
    print(
        f"{row['viewers']:8d} {row['delivered']:>5}/{row['expected']:<5}"
        f"{row['p50_s'] * 1000:8.0f} {row['p99_s'] * 1000:8.0f} {row['server_cpu_cores']:10.2f}c"
    )
    verdict = "PASS" if row["p99_s"] < 0.3 else "MISS"
    print(f"2000 viewers on 2 gateways p99 {row['p99_s'] * 1000:.0f} ms (target < 300 ms): {verdict}")
    save_results("scaleout.json", {"two_gateways": viewers})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

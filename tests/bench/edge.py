"""Edge benchmark (part of ``make bench``; issue #28): the abuse benchmark through the bundled nginx (TLS,
``infra/nginx``) in front of two gateways and a transcriber on Redis. 1,000 viewers of one room, each from a
loopback address of its own, first alone, then with the 50 abusers of ``tests.bench.abusers`` (storms and
spam at their real rate), alternately.

Targets: the viewers' delivery p99 with abusers within 1.2x of the calm runs, every caption delivered, the
gateways' RSS growth under 50 MB, every gateway alive. Also the fan-out through nginx against the same
gateway reached directly (what the proxy adds to p99), taking turns.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.abuse import VIEWERS, alternate, report
from tests.bench.server import create_room, fan_out, save_results
from tests.support.edge import Edge
from tests.support.reach import EDGE_CA

RSS_GROWTH_MB = 50.0
PROXY_ROUNDS = 2
# The settings the gateways run with are the product's defaults; only what the edge needs is set.
GATEWAY_SETTINGS = {"CAPTIONS_STATUS_INTERVAL_S": "1.0", "CAPTIONS_NUM_WORKERS": "2"}


def proxy_cost(edge: Edge) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """1000 viewers and the presenter on one gateway directly, then through nginx (where the room's hash sends
    them all to one gateway too), taking turns."""
    direct_runs, proxied_runs = [], []
    gateway = edge.gateways[0]
    certificate = os.environ.pop(EDGE_CA)
    for attempt in range(PROXY_ROUNDS):
        print(
            f"  1000 viewers on a gateway directly ({attempt + 1}/{PROXY_ROUNDS}) ...",
            file=sys.stderr,
            flush=True,
        )
        room = create_room(gateway.url, organiser=100 + attempt)
        direct_runs.append(asyncio.run(fan_out(gateway.url, [gateway.pid], VIEWERS, room)))
        os.environ[EDGE_CA] = certificate
        print(f"  1000 viewers through nginx ({attempt + 1}/{PROXY_ROUNDS}) ...", file=sys.stderr, flush=True)
        room = create_room(edge.nginx.url, organiser=200 + attempt)
        proxied_runs.append(
            asyncio.run(fan_out(edge.nginx.url, [g.pid for g in edge.gateways], VIEWERS, room))
        )
        certificate = os.environ.pop(EDGE_CA)
    os.environ[EDGE_CA] = certificate
    return direct_runs, proxied_runs


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        edge = Edge(Path(folder), GATEWAY_SETTINGS).start()
        os.environ[EDGE_CA] = str(edge.nginx.certificate)
        try:
            pids = [gateway.pid for gateway in edge.gateways]
            calm_runs, abused_runs = alternate(edge.nginx.url, pids)
            direct_runs, proxied_runs = proxy_cost(edge)
            alive = all(gateway.running for gateway in edge.gateways)
        finally:
            edge.stop()
    checks, ratio = report("Abuse through nginx (2 gateways)", calm_runs, abused_runs, alive, RSS_GROWTH_MB)

    def mean(runs: list[dict[str, Any]], key: str) -> float:
        return float(sum(run[key] for run in runs)) / len(runs)

    print(
        f"\nFan-out to 1000 viewers on one gateway, directly and through nginx over TLS ({PROXY_ROUNDS} rounds each)"
    )
    print(f"{'':22} {'p50 ms':>8} {'p99 ms':>8} {'delivered':>12}")
    for label, runs in (("directly", direct_runs), ("through nginx", proxied_runs)):
        delivered = f"{sum(r['delivered'] for r in runs)}/{sum(r['expected'] for r in runs)}"
        print(
            f"{label:22} {mean(runs, 'p50_s') * 1000:8.0f} {mean(runs, 'p99_s') * 1000:8.0f} {delivered:>12}"
        )
    added = mean(proxied_runs, "p99_s") - mean(direct_runs, "p99_s")
    print(f"nginx adds {added * 1000:+.0f} ms to p99")
    checks.append(
        (
            "every caption delivered through nginx and directly",
            all(r["delivered"] == r["expected"] for r in (*direct_runs, *proxied_runs)),
        )
    )
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    save_results(
        "edge.json",
        {
            "calm": calm_runs,
            "abused": abused_runs,
            "p99_ratio": round(ratio, 3),
            "alive": alive,
            "direct": direct_runs,
            "through_nginx": proxied_runs,
            "nginx_added_p99_s": round(added, 3),
        },
    )
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

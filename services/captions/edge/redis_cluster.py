"""The Redis Cluster of ``make stack``: formed once from its nodes (``redis-cli --cluster create``), then
watched, its state changes logged, for as long as the stack runs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

WATCH_INTERVAL_S = 5.0


def form_and_watch(ports: Sequence[int], replicas: int = 1) -> None:
    nodes: list[Any] = [
        redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=5) for port in ports
    ]
    _wait(lambda: all(_answers(node) for node in nodes), "every node answering")
    if not all(_state(node) == "ok" for node in nodes):
        known_slots = int(nodes[0].execute_command("CLUSTER INFO")["cluster_slots_assigned"])
        if known_slots == 0:  # a new cluster (a formed one keeps its nodes.conf across restarts)
            subprocess.run(
                ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
                 "--cluster-replicas", str(replicas), "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
    _wait(lambda: all(_state(node) == "ok" for node in nodes), "cluster_state:ok on every node")
    print(f"Redis Cluster ready on ports {', '.join(map(str, ports))}", flush=True)
    seen = ["ok"] * len(nodes)
    while True:
        time.sleep(WATCH_INTERVAL_S)
        for index, node in enumerate(nodes):
            state = _state(node)
            if state != seen[index]:
                print(f"node {ports[index]}: {seen[index]} -> {state}", flush=True)
                seen[index] = state


def wait_for_redis(url: str, cluster: bool, within_s: float = 120.0) -> None:
    """Until Redis answers (a cluster: until every node its seed knows says every slot is served, as a client
    may be sent to any of them), so that the services of the stack start on a Redis that is there."""
    seed: Any = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5)
    _wait(lambda: _answers(seed) and (not cluster or _all_ok(seed)), f"Redis at {url}", within_s)


def _all_ok(seed: Any) -> bool:
    try:
        listed: dict[str, Any] = seed.execute_command("CLUSTER NODES")  # keyed by "host:port"
    except redis.exceptions.RedisError:
        return False
    addresses = [address.rsplit(":", 1) for address in listed]
    nodes = [
        redis.Redis(host=host, port=int(port), socket_connect_timeout=0.5, socket_timeout=5)
        for host, port in addresses
        if host and port != "0"  # a node still being introduced has no address yet
    ]
    try:
        return len(nodes) == len(addresses) and all(_state(node) == "ok" for node in nodes)
    finally:
        for node in nodes:
            node.close()


def _answers(node: Any) -> bool:
    try:
        return bool(node.ping())
    except redis.exceptions.RedisError:
        return False


def _state(node: Any) -> str:
    try:
        return str(node.execute_command("CLUSTER INFO")["cluster_state"])
    except redis.exceptions.RedisError:
        return "unreachable"


def _wait(ready: Callable[[], bool], what: str, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"redis-cluster: no {what} after {within_s:g} s")
        time.sleep(0.1)

"""Real processes for the scale-out tests: a redis-server of their own, and `captions` services."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import httpx
import redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(ready: Callable[[], bool], what: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {within_s}s")
        time.sleep(0.05)


class RedisServer:
    """redis-server on a free port with its data in ``folder``, append-only. ``fsync`` "always" (the tests: a
    restart loses nothing) or "everysec" (as ``docker-compose.yml`` runs it: a restart loses up to a second)."""

    def __init__(
        self,
        folder: Path,
        fsync: Literal["always", "everysec"] = "always",
        port: int = 0,
        extra: tuple[str, ...] = (),
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        self.binary = binary
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.fsync = fsync
        self._extra = extra
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--appendonly", "yes",
                "--appendfsync", self.fsync,
                "--save", "",
                "--logfile", str(self.folder / "redis.log"),
                *self._extra,
            ],
        )  # fmt: skip
        wait_until(self._answers, "redis-server", 10)
        return self

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except redis.exceptions.ConnectionError:
            return False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def kill(self) -> None:
        """kill -9: whatever was not replicated yet is gone with it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    return ports_in_a_row(1, bus_offset=10_000)


def cluster_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports whose cluster bus ports are free too."""
    return ports_in_a_row(count, bus_offset=10_000)


def ports_in_a_row(count: int, bus_offset: int = 0) -> int:
    """The first of ``count`` consecutive ports free now (and each one's ``+ bus_offset``), all below the range the
    kernel takes outgoing connections' ports from: a port in that range that was free when checked can be any
    client connection's own by the time its server binds it (a gateway of a stack once failed so)."""
    top = _ephemeral_ports_start() - bus_offset - count
    while True:
        first = random.randrange(10_000, top)
        ports = range(first, first + count)
        if all(_free(port) and (not bus_offset or _free(port + bus_offset)) for port in ports):
            return first


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisCluster:
    """A real Redis Cluster of Debian's redis-server: ``masters`` masters with one replica each on loopback
    ports, made with ``redis-cli --cluster create``. A node that stops answering for ``node_timeout_ms`` is failed
    over to its replica. Stopped by the PIDs it started."""

    def __init__(self, folder: Path, masters: int = 3, node_timeout_ms: int = 1000) -> None:
        self.folder = folder
        self.nodes = [self._node(folder / f"node-{index}", node_timeout_ms) for index in range(masters * 2)]
        self.url = self.nodes[0].url

    @staticmethod
    def _node(folder: Path, node_timeout_ms: int) -> RedisServer:
        options = (
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(folder / "nodes.conf"),
            "--cluster-node-timeout", str(node_timeout_ms),
            # A replica takes over however long it was cut off: the tests kill masters on purpose.
            "--cluster-replica-validity-factor", "0",
            "--cluster-allow-pubsubshard-when-down", "yes",
        )  # fmt: skip
        return RedisServer(folder, port=cluster_port(), extra=options)

    def start(self) -> RedisCluster:
        for node in self.nodes:
            node.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in self.nodes),
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        wait_until(lambda: self._agreed(self.nodes), "redis cluster", 30)
        return self

    @staticmethod
    def client(node: RedisServer) -> Any:  # redis-py leaves execute_command untyped
        return redis.Redis(
            port=node.port, socket_connect_timeout=0.5, socket_timeout=5, decode_responses=True
        )

    def living(self) -> list[RedisServer]:
        return [node for node in self.nodes if node.running]

    def _agreed(self, nodes: list[RedisServer]) -> bool:
        """Every node says the cluster is ok and sees a master for every slot range, and they agree on which."""
        try:
            views = []
            for node in nodes:
                client = self.client(node)
                if client.execute_command("CLUSTER INFO")["cluster_state"] != "ok":
                    return False
                views.append(_masters_by_range(client.execute_command("CLUSTER NODES")))
            return all(
                view == views[0] and sum(end - start + 1 for start, end in view) == 16384 for view in views
            )
        except redis.exceptions.RedisError:
            return False

    def _nodes(self) -> dict[str, dict[str, Any]]:
        nodes: dict[str, dict[str, Any]] = self.client(self.living()[0]).execute_command("CLUSTER NODES")
        return nodes

    def _node_at(self, address: str) -> RedisServer:
        port = int(address.rsplit(":", 1)[1].split("@")[0])
        return next(node for node in self.nodes if node.port == port)

    def slot_of(self, key: str) -> int:
        return int(self.client(self.living()[0]).execute_command("CLUSTER KEYSLOT", key))

    def master_of(self, slot: int) -> RedisServer:
        for address, node in self._nodes().items():
            serves = any(int(span[0]) <= slot <= int(span[-1]) for span in node["slots"])
            if serves and "master" in node["flags"] and "fail" not in node["flags"]:
                return self._node_at(address)
        raise LookupError(f"no master serves slot {slot}")

    def replica_of(self, master: RedisServer) -> RedisServer:
        nodes = self._nodes()
        master_id = next(n["node_id"] for a, n in nodes.items() if self._node_at(a) is master)
        for address, node in nodes.items():
            if node["master_id"] == master_id and "fail" not in node["flags"]:
                return self._node_at(address)
        raise LookupError(f"no replica of 127.0.0.1:{master.port}")

    def wait_for_new_master(self, slot: int, old: RedisServer, within_s: float = 30) -> RedisServer:
        """Until every living node agrees that a node other than ``old`` serves ``slot``."""

        def moved() -> bool:
            try:
                return self.master_of(slot) is not old and self._agreed(
                    [n for n in self.living() if n is not old]
                )
            except (LookupError, redis.exceptions.RedisError):
                return False

        wait_until(moved, f"a new master of slot {slot}", within_s)
        return self.master_of(slot)

    def fail_over(self, slot: int) -> RedisServer:
        """``CLUSTER FAILOVER`` on the replica of the master serving ``slot`` (no write is lost)."""
        old = self.master_of(slot)
        self.client(self.replica_of(old)).execute_command("CLUSTER FAILOVER")
        return self.wait_for_new_master(slot, old)

    def kill_master(self, slot: int) -> RedisServer:
        """kill -9 of the master serving ``slot``; its replica is promoted when the cluster sees it gone."""
        old = self.master_of(slot)
        old.kill()
        return self.wait_for_new_master(slot, old)

    def migrate(self, slot: int) -> RedisServer:
        """Move ``slot`` (and its keys) to another master, as ``redis-cli --cluster reshard`` does."""
        old = self.master_of(slot)
        nodes = self._nodes()
        ids = {self._node_at(a): n["node_id"] for a, n in nodes.items()}
        masters = [
            self._node_at(a) for a, n in nodes.items() if "master" in n["flags"] and "fail" not in n["flags"]
        ]
        target = next(node for node in masters if node is not old)
        source_client, target_client = self.client(old), self.client(target)
        target_client.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", ids[old])
        source_client.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", ids[target])
        while keys := source_client.execute_command("CLUSTER GETKEYSINSLOT", slot, 100):
            source_client.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
        for node in (target, old, *[node for node in masters if node not in (target, old)]):
            self.client(node).execute_command("CLUSTER SETSLOT", slot, "NODE", ids[target])
        return self.wait_for_new_master(slot, old)

    def flush(self) -> None:
        """Every key and script gone (between tests sharing one cluster)."""
        for node in self.living():
            client = self.client(node)
            if client.execute_command("ROLE")[0] == "master":
                client.flushall()
                client.script_flush()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _masters_by_range(nodes: dict[str, dict[str, Any]]) -> list[tuple[int, int]]:
    ranges = [
        (int(span[0]), int(span[-1]))
        for node in nodes.values()
        if "master" in node["flags"] and "fail" not in node["flags"]
        for span in node["slots"]
    ]
    return sorted(ranges)


class CaptionsProcess:
    """A ``captions`` service (serve, gateway, transcriber) as a child process, its output in a log file."""

    def __init__(self, command: str, env: dict[str, str], folder: Path, name: str, cwd: Path = ROOT) -> None:
        self.command = command
        self.cwd = cwd
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"{name}.log"
        # Never the developer's own settings: only what the test gives.
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith("CAPTIONS_") or k == "CAPTIONS_TEST_AUDIO"
        }
        self._env = {
            **inherited,
            **env,
            "CAPTIONS_PORT": str(self.port),
            "CAPTIONS_HOST": "127.0.0.1",
            "CAPTIONS_INSTANCE_NAME": name,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, within_s: float = 60) -> CaptionsProcess:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "captions.cli", self.command],
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
            )
        probe = "/metrics" if self.command == "transcriber" else "/healthz"
        wait_until(lambda: self._alive() and self._answers(probe), f"{self.name}", within_s)
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _alive(self) -> bool:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError(f"{self.name} exited; its log:\n{self.log.read_text()[-3000:]}")
        return True

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(self.url + path, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """kill -9: no chance to hand anything over."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
            self._process = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log yet)"


def processes_in(values: Iterable[object]) -> list[CaptionsProcess]:
    """The service processes among a test's fixtures (alone, or those of a deployment)."""
    found: list[CaptionsProcess] = []
    for value in values:
        if isinstance(value, CaptionsProcess):
            found.append(value)
        for group in ("gateways", "transcribers"):
            found += [p for p in getattr(value, group, []) if isinstance(p, CaptionsProcess)]
    return list({id(process): process for process in found}.values())  # a deployment can be two fixtures

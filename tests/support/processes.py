"""Real processes for the scale-out tests: a redis-server of their own, and `captions` services."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

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

    def __init__(self, folder: Path, fsync: Literal["always", "everysec"] = "always") -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.fsync = fsync
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
            ],
        )  # fmt: skip
        wait_until(self._answers, "redis-server", 10)
        return self

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


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

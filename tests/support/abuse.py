"""What the abuse suite and the abuse benchmark need: a real server behind a trusted proxy, clients from
chosen addresses, and the server process's memory."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.harness import Client
from tests.support.processes import CaptionsProcess, free_port


@dataclass
class AbuseTarget:
    process: CaptionsProcess
    metrics_url: str  # the internal listener

    @property
    def url(self) -> str:
        return self.process.url

    def http(self, address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers={"X-Forwarded-For": address})

    async def create_room(self, address: str, title: str = "Talk", private: bool = False) -> dict[str, Any]:
        async with self.http(address) as http:
            response = await http.post("/api/rooms", json={"title": title, "private": private})
            response.raise_for_status()
            room: dict[str, Any] = response.json()
            return room

    def presenter(self, room: dict[str, Any], address: str) -> Client:
        auth = {"room": room["id"], "role": "presenter", "key": room["presenter_key"]}
        return Client(self.url, auth, headers={"X-Forwarded-For": address})

    def viewer(self, room: dict[str, Any], address: str, **auth: Any) -> Client:
        return Client(
            self.url, {"room": room["id"], "role": "viewer", **auth}, headers={"X-Forwarded-For": address}
        )

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)


PUBLIC_URL = "https://captions.example"


def serve_target(folder: Path, settings: dict[str, str]) -> Iterator[AbuseTarget]:
    """A real ``captions serve`` with ``settings`` (environment variables), behind a simulated trusted proxy:
    its clients say their address in ``X-Forwarded-For``. Its metrics on an internal listener."""
    metrics_port = free_port()
    env = {
        "CAPTIONS_DATA_DIR": str(folder / "data"),
        "CAPTIONS_WEB_DIR": str(folder / "no-web-build"),
        "CAPTIONS_TRUSTED_PROXIES": '["127.0.0.1"]',
        "CAPTIONS_PUBLIC_URL": PUBLIC_URL,
        "CAPTIONS_METRICS_PORT": str(metrics_port),
        **settings,
    }
    process = CaptionsProcess("serve", env, folder, "serve")
    try:
        yield AbuseTarget(process.start(), f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        process.stop()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (``VmRSS``) or at its peak so far (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


async def slowloris(
    port: int, every_s: float, tls: ssl.SSLContext | None = None, source: str = "127.0.0.1"
) -> float:
    """A request line, then one header byte every ``every_s``; how long the server let the connection live."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls, local_addr=(source, 0))
    opened = loop.time()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    try:
        while True:
            try:
                if await asyncio.wait_for(reader.read(1024), every_s) == b"":
                    break
            except TimeoutError:
                writer.write(b"a")
    except (ConnectionResetError, ssl.SSLError):
        pass
    writer.close()
    return loop.time() - opened

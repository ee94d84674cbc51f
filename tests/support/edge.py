"""The bundled nginx (``infra/nginx``, only its site files written for this machine) in front of real gateways,
and clients that reach it over TLS from an address of their own on 127.0.0.0/8 (each one's limits apart)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import socketio
from prometheus_client.parser import text_string_to_metric_families

from captions.edge.nginx import Site, command, self_signed_certificate, write_site
from captions.settings import WEB_BUILD
from tests.support.deployment import assert_one_clean_transcript, finals_at_least, texts
from tests.support.harness import Client
from tests.support.processes import CaptionsProcess, RedisServer, free_port, wait_until
from tests.support.speech import SpeechCorpus

METRICS_TOKEN = "edge-scraper"


def needs_the_edge_programs() -> None:
    """Skips, saying why, where nginx, redis-server, openssl or the web build is missing."""
    for program in ("redis-server", "openssl"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (make test installs it with apt-get)")
    if shutil.which("nginx") is None and shutil.which("/usr/sbin/nginx") is None:
        pytest.skip("nginx is not installed (make test installs it with apt-get)")
    if not (WEB_BUILD / "index.html").exists():
        pytest.skip("the web app is not built (make test builds it)")


class TlsEndpoint:
    """An HTTPS origin whose certificate the clients are told to trust."""

    def __init__(self, url: str, certificate: Path) -> None:
        self.url = url
        self.origin = url  # what a browser on the page sends: scheme, host and the port
        self.certificate = certificate

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def http(self, source: str) -> httpx.AsyncClient:
        """HTTPS from ``source`` (an address on 127.0.0.0/8)."""
        transport = httpx.AsyncHTTPTransport(verify=self.tls(), local_address=source)
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=10)

    def client(self, auth: dict[str, Any], source: str, origin: str | None = None) -> Client:
        """A Socket.IO client over TLS from ``source``, sending a browser's Origin."""
        tls = self.tls()

        def session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, local_addr=(source, 0)))

        sio = socketio.AsyncClient(reconnection=False, http_session=session)
        return Client(self.url, auth, sio=sio, headers={"Origin": origin or self.origin})

    async def new_room(self, source: str) -> dict[str, Any]:
        async with self.http(source) as http:
            response = await http.post("/api/rooms", json={"title": "Through the edge"})
            response.raise_for_status()
            room: dict[str, Any] = response.json()
            return room

    async def transcript(self, room: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.http("127.0.0.9") as http:
            response = await http.get(f"/api/rooms/{room['id']}/transcript.json")
            response.raise_for_status()
            cues: list[dict[str, Any]] = response.json()["cues"]
            return cues

    def presenter(self, room: dict[str, Any], source: str) -> Client:
        return self.client({"room": room["id"], "role": "presenter", "key": room["presenter_key"]}, source)

    def viewer(self, room: dict[str, Any], source: str) -> Client:
        return self.client({"room": room["id"], "role": "viewer"}, source)


class Nginx(TlsEndpoint):
    def __init__(self, folder: Path, gateways: list[str], web_root: Path = WEB_BUILD) -> None:
        self.http_port, self.https_port = free_port(), free_port()
        certificate, key = self_signed_certificate(folder / "tls")
        super().__init__(f"https://127.0.0.1:{self.https_port}", certificate)
        self.folder = folder / "nginx"
        write_site(self.folder, Site(gateways, self.http_port, self.https_port, certificate, key, web_root))
        self.log = folder / "nginx.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(command(self.folder), stdout=out, stderr=subprocess.STDOUT)
        wait_until(self._listens, "nginx", 10)
        return self

    def _listens(self) -> bool:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError(f"nginx exited; its log:\n{self.log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.https_port), 0.2):
            return True
        return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def answered(self, source: str) -> int:
        """Requests from ``source`` in nginx's access log (written after each answer is sent)."""
        return sum(line.startswith(f"{source} ") for line in self.log.read_text().splitlines())

    def refused(self, source: str) -> int:
        """Requests from ``source`` nginx answered 429 itself, without asking a gateway (its access log: wait
        for their lines with ``answered`` first; nginx writes a line after the answer has gone)."""
        lines = self.log.read_text().splitlines()
        return sum(
            line.startswith(f"{source} ") and " 429 " in line and "upstream=-" in line for line in lines
        )


async def finish_talk(endpoint: TlsEndpoint, room: dict[str, Any], speaker: Client, talk: asyncio.Task[None],
                      readers: list[Client], speech: SpeechCorpus) -> None:  # fmt: skip
    """The talk ends; every reader has exactly the stored transcript, and it is what was said."""
    await talk
    await speaker.emit("stop")
    for reader in readers:
        await reader.wait_for(reader.ended)
    transcript = await endpoint.transcript(room)
    for reader in readers:
        await reader.wait_for(partial(finals_at_least, len(transcript), reader))
        assert texts(reader.finals) == texts(transcript)
    assert_one_clean_transcript(transcript, speech)
    for client in (speaker, *readers):
        await client.disconnect()


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Edge:
    """nginx in front of two gateways and a transcriber on one redis-server, as ``make stack`` runs them."""

    def __init__(self, folder: Path, settings: dict[str, str] | None = None) -> None:
        self.redis = RedisServer(folder / "redis")
        env = {
            "REDIS_URL": self.redis.url,
            "CAPTIONS_DATA_DIR": str(folder / "data"),
            "CAPTIONS_WEB_DIR": str(WEB_BUILD),
            "CAPTIONS_TRUSTED_PROXIES": '["127.0.0.1/32"]',
            "CAPTIONS_METRICS_TOKEN": METRICS_TOKEN,
            "CAPTIONS_STATUS_INTERVAL_S": "0.2",
            "CAPTIONS_NUM_WORKERS": "1",
            **(settings or {}),
        }
        self.gateways = [CaptionsProcess("gateway", env, folder, f"gateway-{x}") for x in "ab"]
        self.transcriber = CaptionsProcess("transcriber", env, folder, "transcriber")
        self.nginx = Nginx(folder, [f"127.0.0.1:{g.port}" for g in self.gateways])

    def start(self) -> Edge:
        self.redis.start()
        for process in [*self.gateways, self.transcriber]:
            process.start()
        self.nginx.start()
        return self

    def stop(self) -> None:
        self.nginx.stop()
        for process in [*self.gateways, self.transcriber]:
            process.stop()
        self.redis.stop()

    async def metric(self, name: str, **labels: str) -> list[float]:
        """``name`` (with ``labels``) as each gateway reports it, scraped from the gateway itself."""
        values = []
        for gateway in self.gateways:
            async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
                response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
                response.raise_for_status()
            samples = [
                sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
            ]
            values.append(sum(samples))
        return values

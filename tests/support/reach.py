"""How a benchmark client with an address of its own reaches the server.

Directly (``captions serve`` or a gateway trusting 127.0.0.1 as its proxy): the client names its address in
``X-Forwarded-For``. Through nginx (``BENCH_EDGE_CA`` names the certificate nginx serves): over TLS, from a
loopback address of its own (nginx replaces any ``X-Forwarded-For``; it limits by the address it sees), so a
phone at 10.1.2.3 becomes a client at 127.11.2.3."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import socketio
from websockets.asyncio.client import ClientConnection, connect

from tests.support.raw_socketio import masked_text

EDGE_CA = "BENCH_EDGE_CA"


@dataclass(frozen=True)
class Reach:
    url: str
    ca: str = ""

    @classmethod
    def of(cls, url: str) -> Reach:
        """As the environment says (the benchmark's processes inherit it)."""
        return cls(url, os.environ.get(EDGE_CA, ""))

    @property
    def edge(self) -> bool:
        return bool(self.ca)

    def tls(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.ca) if self.ca else None

    @staticmethod
    def loopback(address: str) -> str:
        first, second, third, fourth = (int(part) for part in address.split("."))
        return f"127.{(first + second) % 250 + 2}.{third}.{fourth}"

    def headers(self, address: str) -> dict[str, str]:
        return {} if self.edge else {"X-Forwarded-For": address}

    def sio(self, address: str) -> socketio.AsyncClient:
        if not self.edge:
            return socketio.AsyncClient(reconnection=False)
        tls, source = ssl.create_default_context(cafile=self.ca), self.loopback(address)

        def session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, local_addr=(source, 0)))

        return socketio.AsyncClient(reconnection=False, http_session=session)

    def socketio_url(self, room: str) -> str:
        """With the room in the query, as the web app sends it (nginx routes by it)."""
        return f"{self.url}?room={room}"

    def http(self, address: str) -> httpx.AsyncClient:
        if not self.edge:
            return httpx.AsyncClient(base_url=self.url, headers=self.headers(address), timeout=10)
        transport = httpx.AsyncHTTPTransport(verify=self.tls() or True, local_address=self.loopback(address))
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=10)

    def sync_http(self, address: str) -> httpx.Client:
        if not self.edge:
            return httpx.Client(base_url=self.url, headers=self.headers(address), timeout=10)
        transport = httpx.HTTPTransport(verify=self.tls() or True, local_address=self.loopback(address))
        return httpx.Client(base_url=self.url, transport=transport, timeout=10)

    async def websocket(self, address: str, room: str) -> ClientConnection:
        """The raw WebSocket of a client at ``address``, its Engine.IO open read."""
        scheme = "wss://" if self.edge else "ws://"
        target = f"{scheme}{self.url.split('://', 1)[1]}/socket.io/?EIO=4&transport=websocket&room={room}"
        options: dict[str, Any] = (
            {"ssl": self.tls(), "local_addr": (self.loopback(address), 0)} if self.edge else {}
        )
        ws = await connect(target, additional_headers=self.headers(address), ping_interval=None, open_timeout=10,
                           **options)  # fmt: skip
        opened = await ws.recv()
        assert isinstance(opened, str), opened
        assert opened.startswith("0"), opened
        return ws

    def host_port(self) -> tuple[str, int]:
        host, port = self.url.split("://", 1)[1].split(":")
        return host, int(port)

    async def stalled_viewer(
        self, address: str, auth: dict[str, Any]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A viewer that joins, then reads no more than it must: a socket with a tiny receive buffer and a
        small stream buffer (client libraries keep reading into their own)."""
        host, port = self.host_port()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if self.edge:
            sock.bind((self.loopback(address), 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=self.tls(), server_hostname=host if self.edge else None, limit=4096
        )
        key = base64.b64encode(os.urandom(16)).decode()
        forwarded = "" if self.edge else f"X-Forwarded-For: {address}\r\n"
        writer.write(
            f"GET /socket.io/?EIO=4&transport=websocket&room={auth['room']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{forwarded}\r\n".encode()
        )
        seen = b""
        for marker, then in ((b"0{", masked_text("40" + json.dumps(auth))), (b'40{"sid"', b"")):
            while marker not in seen:
                seen += await asyncio.wait_for(reader.read(4096), 10)
            writer.write(then)
        return reader, writer

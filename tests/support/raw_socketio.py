"""A Socket.IO client at the wire: Engine.IO 4 packets over one WebSocket, for clients that misbehave on
purpose (packets no library would send, connections that stop reading, close mid-connect)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


async def open_socket(url: str, address: str, query: str = "") -> ClientConnection:
    """The WebSocket of a client at ``address`` (behind the trusted proxy), its Engine.IO open read;
    ``query`` is added to the handshake's query string as it is."""
    target = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket" + query
    ws = await connect(
        target, additional_headers={"X-Forwarded-For": address}, ping_interval=None, open_timeout=10
    )
    opened = await ws.recv()
    assert isinstance(opened, str), opened
    assert opened.startswith("0"), opened
    return ws


async def join(ws: ClientConnection, auth: dict[str, Any]) -> str:
    """Socket.IO connect; the server's answer (``40...`` accepted, ``44...`` refused)."""
    await ws.send("40" + json.dumps(auth))
    while True:
        answer = await ws.recv()
        assert isinstance(answer, str)
        if answer == "2":
            await ws.send("3")
            continue
        if answer.startswith(("40", "44")):
            return answer


async def stalled_viewer(url: str, address: str, auth: dict[str, Any]) -> socket.socket:
    """A viewer that joins, then never reads again: a raw WebSocket on a socket with a tiny receive buffer
    (client libraries keep reading into their own buffers)."""
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: {address}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())

    async def read_until(marker: bytes, seen: bytes) -> bytes:
        while marker not in seen:
            seen += await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
        return seen

    seen = await read_until(b"0{", b"")  # the handshake response, then Engine.IO's open packet
    await loop.sock_sendall(sock, masked_text("40" + json.dumps(auth)))
    await read_until(b'40{"sid"', seen)
    return sock


def masked_text(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    length = len(payload)
    header = (
        bytes([0x81, 0x80 | length])
        if length < 126
        else bytes([0x81, 0x80 | 126]) + length.to_bytes(2, "big")
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

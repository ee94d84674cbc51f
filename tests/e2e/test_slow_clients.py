"""``captions serve`` exposed directly: what a slowloris and the long-polling transport get."""

from __future__ import annotations

import asyncio

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.abuse import slowloris
from tests.support.harness import Server

HEADER_TIMEOUT_S = 1.0
SLOW_CLIENTS = 50


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), 5)


async def test_requests_whose_headers_never_finish_are_closed(
    server_settings: Settings, engine: Engine
) -> None:
    settings = server_settings.model_copy(update={"header_timeout_s": HEADER_TIMEOUT_S})
    async with Server(settings, engine) as server:
        slow = [asyncio.create_task(slowloris(server.settings.port, 0.3)) for _ in range(SLOW_CLIENTS)]
        async with server.http() as http:
            assert (await http.get("/healthz")).status_code == 200
        lived = await asyncio.wait_for(asyncio.gather(*slow), 20)
        assert max(lived) < HEADER_TIMEOUT_S * 5

        # A client that sends whole requests, pausing between them, keeps its connection (keep-alive).
        reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
        assert b"200 OK" in await ask(reader, writer)
        await asyncio.sleep(HEADER_TIMEOUT_S * 2)  # the client's own pause between two requests
        assert b"200 OK" in await ask(reader, writer)
        writer.close()


async def test_long_polling_is_refused_with_a_problem(server: Server) -> None:
    async with server.http() as http:
        response = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "websocket_required"


async def test_long_polling_is_served_when_allowed(server_settings: Settings, engine: Engine) -> None:
    allowed = server_settings.model_copy(update={"allow_polling": True})
    async with Server(allowed, engine) as server, server.http() as http:
        response = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert response.status_code == 200
    assert response.text.startswith('0{"sid":')

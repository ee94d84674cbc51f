"""The bundled nginx config, run: nginx (infra/nginx, only ports, upstreams and the certificate filled in) over
TLS in front of two gateways and a transcriber on a real redis-server. Each test's clients come from addresses of
their own on 127.0.0.0/8, so each meets the per-address limits afresh."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

import httpx
import pytest
import socketio

from captions.settings import WEB_BUILD
from tests.support.abuse import slowloris
from tests.support.deployment import RECORDING, SPEED, finals_at_least
from tests.support.edge import Edge, finish_talk
from tests.support.harness import pcm_frames, stream
from tests.support.processes import wait_until
from tests.support.speech import SpeechCorpus

HANDSHAKES = 1_000  # far past the handshake burst (300) at the rate one client can send them
ROOM_FLOOD = 60
SLOWLORIS = 500
HEADER_TIMEOUT_S = 10  # captions.conf: client_header_timeout


def all_logged(edge: Edge, source: str, sent: int) -> bool:
    return edge.nginx.answered(source) >= sent


async def flood(times: int, request: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """``request`` sent ``times`` times, 20 at once (what one client's connection pool keeps busy)."""
    at_once = asyncio.Semaphore(20)

    async def one() -> httpx.Response:
        async with at_once:
            return await request()

    return await asyncio.gather(*(one() for _ in range(times)))


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in response.headers["strict-transport-security"]


async def test_a_talk_over_tls_reaches_every_viewer_and_each_room_stays_on_one_gateway(
    edge: Edge, speech: SpeechCorpus
) -> None:
    talk_room, quiet_room = await edge.nginx.new_room("127.0.0.11"), await edge.nginx.new_room("127.0.0.11")
    # Each client from its own address: a proxy routing by address would spread a room over the gateways.
    readers = [await edge.nginx.viewer(talk_room, f"127.0.0.{20 + n}").connect() for n in range(6)]
    lone = await edge.nginx.viewer(quiet_room, "127.0.0.30").connect()
    assert sorted(await edge.metric("captions_viewers")) in ([1.0, 6.0], [0.0, 7.0])

    with pytest.raises(socketio.exceptions.ConnectionError):
        await edge.nginx.client(
            {"room": talk_room["id"], "role": "viewer"}, "127.0.0.31", origin="https://elsewhere.example"
        ).connect()

    speaker = await edge.nginx.presenter(talk_room, "127.0.0.32").connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    await finish_talk(edge.nginx, talk_room, speaker, talk, readers, speech)
    await lone.disconnect()


async def test_handshake_and_room_floods_are_refused_by_nginx_while_the_talk_goes_on(
    edge: Edge, speech: SpeechCorpus
) -> None:
    room = await edge.nginx.new_room("127.0.0.40")
    reader = await edge.nginx.viewer(room, "127.0.0.41").connect()
    speaker = await edge.nginx.presenter(room, "127.0.0.42").connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    await reader.wait_for(partial(finals_at_least, 1, reader))
    connects_before = sum(await edge.metric("captions_gated_requests_total", kind="connect"))
    rooms_before = sum(await edge.metric("captions_gated_requests_total", kind="rooms"))

    async with edge.nginx.http("127.0.0.43") as http:
        handshake = f"/socket.io/?EIO=4&transport=websocket&room={room['id']}"
        handshakes = await flood(HANDSHAKES, partial(http.get, handshake))
    async with edge.nginx.http("127.0.0.44") as http:
        creations = [await http.post("/api/rooms", json={"title": "spam"}) for _ in range(ROOM_FLOOD)]

    # Refused by nginx: answered without a gateway (its access log names none). A gateway's own limits, the
    # same rates behind it, may refuse a few more at the edge of the burst (their clocks differ by milliseconds).
    # nginx logs a request after its answer has gone: the last answers can arrive before their lines.
    for source, sent in (("127.0.0.43", HANDSHAKES), ("127.0.0.44", ROOM_FLOOD)):
        await asyncio.to_thread(wait_until, partial(all_logged, edge, source, sent), "nginx's log", 10)
    refused_handshakes = edge.nginx.refused("127.0.0.43")
    refused_rooms = edge.nginx.refused("127.0.0.44")
    assert refused_handshakes >= HANDSHAKES / 2
    assert refused_rooms >= ROOM_FLOOD - 12
    for response in [r for r in handshakes if r.status_code == 429]:
        assert_refused(response)
    for response in [r for r in creations if r.status_code == 429]:
        assert_refused(response)
    assert sum(r.status_code == 429 for r in handshakes) <= refused_handshakes + 10
    # What nginx let through reached the gateways, and nothing it refused did.
    connects = sum(await edge.metric("captions_gated_requests_total", kind="connect")) - connects_before
    rooms = sum(await edge.metric("captions_gated_requests_total", kind="rooms")) - rooms_before
    assert connects == HANDSHAKES - refused_handshakes
    assert rooms == ROOM_FLOOD - refused_rooms

    during = len(reader.finals)
    await reader.wait_for(partial(finals_at_least, during + 1, reader))
    await finish_talk(edge.nginx, room, speaker, talk, [reader], speech)


async def test_forged_forwarded_for_headers_are_limited_as_one_address(edge: Edge) -> None:
    async with edge.nginx.http("127.0.0.50") as http:
        responses = [
            await http.post(
                "/api/rooms", json={"title": "forged"}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
            )
            for n in range(50)
        ]
    created = [r for r in responses if r.status_code == 201]
    assert 1 <= len(created) <= 11  # one address's burst (10) and what one minute refills
    assert all(r.status_code == 429 for r in responses if r.status_code != 201)


async def test_slowloris_connections_are_closed_by_the_header_timeout(
    edge: Edge, speech: SpeechCorpus
) -> None:
    room = await edge.nginx.new_room("127.0.0.60")
    speaker = await edge.nginx.presenter(room, "127.0.0.61").connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    tls = edge.nginx.tls()
    slow = [
        asyncio.create_task(slowloris(edge.nginx.https_port, 10, tls, "127.0.0.62")) for _ in range(SLOWLORIS)
    ]
    await asyncio.sleep(0)
    reader = await edge.nginx.viewer(room, "127.0.0.63").connect()
    await reader.wait_for(partial(finals_at_least, 1, reader))
    lived = await asyncio.wait_for(asyncio.gather(*slow), timeout=HEADER_TIMEOUT_S * 4)
    assert max(lived) < HEADER_TIMEOUT_S * 3
    await finish_talk(edge.nginx, room, speaker, talk, [reader], speech)


async def test_nginx_redirects_to_https_and_answers_with_its_headers(edge: Edge) -> None:
    async with httpx.AsyncClient(timeout=10) as plain:
        response = await plain.get(f"http://127.0.0.1:{edge.nginx.http_port}/r/abc?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == f"{edge.nginx.url}/r/abc?x=1"

    async with edge.nginx.http("127.0.0.70") as http:
        metrics = await http.get("/metrics")
        assert metrics.status_code == 404
        assert "captions_" not in metrics.text
        assert metrics.headers["x-frame-options"] == "DENY"
        health = await http.get("/healthz")
        assert health.json() == {"status": "ok"}
        assert "max-age" in health.headers["strict-transport-security"]
        page = await http.get("/r/some-room")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-cache"
        bundle = max(WEB_BUILD.glob("*-????????.js"), key=lambda path: path.stat().st_size)
        script = await http.get(f"/{bundle.name}", headers={"Accept-Encoding": "gzip"})
        assert script.status_code == 200
        assert script.headers["content-encoding"] == "gzip"
        assert "immutable" in script.headers["cache-control"]
        too_large = await http.post("/api/rooms", content=b"x" * 2_000_000)
        assert too_large.status_code == 413
        assert too_large.json()["code"] == "body_too_large"

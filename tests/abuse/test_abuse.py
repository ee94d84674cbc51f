"""Abuse of a real ``captions serve`` on the open internet, one test per way it was broken: each fails on the
server before it was made safe, and passes now. Every refusal is a coded error, and other rooms never notice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from captions.asr.engine import Engine
from captions.gateway.app import CALM_CONNECT_BURST
from captions.settings import Settings
from tests.abuse.conftest import ADMISSION_WAIT_S
from tests.support.abuse import PUBLIC_URL, AbuseTarget
from tests.support.harness import Client, Server, presenter
from tests.support.raw_socketio import join, open_socket, stalled_viewer

Address = Callable[[], str]


async def room_viewers(target: AbuseTarget, room: dict[str, Any], address: str) -> int:
    async with target.http(address) as http:
        viewers: int = (await http.get(f"/api/rooms/{room['id']}")).json()["viewers"]
        return viewers


def refused_with(client: Client, code: str | None, after: int = 0) -> Callable[[], bool]:
    """The client was refused with ``code`` (after its first ``after`` errors), or its session is live."""
    return lambda: client.session == "live" or any(e["code"] == code for e in client.errors[after:])


def received_all(client: Client, count: int) -> Callable[[], bool]:
    return lambda: len(client.captions) >= count


def answered_all(client: Client, count: int) -> Callable[[], bool]:
    return lambda: len(client.errors) == count


async def eventually(condition: Callable[[], Any], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def test_metrics_are_off_the_public_port_and_name_no_room(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "Metrics must not name me."})
    await speaker.wait_for(lambda: bool(speaker.finals))
    async with target.http(address()) as http:
        public = await http.get("/metrics")
    assert public.status_code == 404
    async with httpx.AsyncClient(timeout=10) as scraper:
        internal = await scraper.get(target.metrics_url)
    assert "captions_rooms_live" in internal.text
    assert room["id"] not in internal.text
    assert "room=" not in internal.text
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.disconnect()


async def test_a_packet_declaring_many_attachments_closes_the_connection(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    before = target.rss_mb()
    ws = await open_socket(target.url, address())
    assert (await join(ws, {"room": room["id"], "role": "viewer"})).startswith("40")
    await ws.send('451000-["audio",{"seq":0,"pcm":{"_placeholder":true,"num":0}}]')

    async def send_attachments() -> None:
        for _ in range(2_000):  # 120 MB in 60 KB attachments, as the attack did
            await ws.send(bytes(60_000))

    with pytest.raises(ConnectionClosed):
        await asyncio.gather(send_attachments(), _read_until_closed(ws))
    assert target.rss_mb() - before < 30, "what it sent was not kept"


async def test_a_second_attachment_is_refused_too(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    ws = await open_socket(target.url, address())
    assert (await join(ws, {"room": room["id"], "role": "viewer"})).startswith("40")
    await ws.send('452-["audio",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    with pytest.raises(ConnectionClosed):
        await _read_until_closed(ws)


async def _read_until_closed(ws: Any) -> None:
    while True:
        await asyncio.wait_for(ws.recv(), 10)


async def test_catch_up_never_crosses_rooms(target: AbuseTarget, address: Address) -> None:
    secret, public = await target.create_room(address()), await target.create_room(address())
    speaker = await target.presenter(secret, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "Only for room A."})
    await speaker.wait_for(lambda: bool(speaker.finals))
    last_id = speaker.finals[0]["id"].rpartition(":")[0] + ":0"
    snoop = await target.viewer(public, address(), last_id=last_id).connect()
    await snoop.wait_for(lambda: bool(snoop.statuses))
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    assert snoop.captions == []
    for client in (speaker, snoop):
        await client.disconnect()


async def test_reconnecting_refills_no_limit(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    started = time.monotonic()
    for burst in range(6):
        speaker = await target.presenter(room, address()).connect()  # another address each time, too
        for n in range(60):
            await speaker.emit("text", {"kind": "final", "text": f"Burst {burst} caption {n}."})
        await speaker.error("rate_limited")
        await speaker.disconnect()
    elapsed = time.monotonic() - started
    async with target.http(address()) as http:
        stored = (await http.get(f"/api/rooms/{room['id']}/transcript.json")).json()["cues"]
    allowed = 40 + 20 * elapsed  # the room's burst plus its rate, however many connections it took
    assert len(stored) <= allowed + 5, f"{len(stored)} finals stored in {elapsed:.1f} s"
    stopper = await target.presenter(room, address()).connect()
    await stopper.emit("stop")
    await stopper.wait_for(stopper.ended)
    await stopper.disconnect()


async def test_viewer_floods_are_limited_then_disconnected_and_others_unaffected(
    target: AbuseTarget, address: Address
) -> None:
    room, other = await target.create_room(address()), await target.create_room(address())
    flooder_address = address()
    flooder = await target.viewer(room, flooder_address).connect()
    for n in range(400):
        if not flooder.sio.connected:
            break
        await flooder.emit("audio" if n % 2 else "no-such-event", {"seq": n, "pcm": b"\0\0"})
    await flooder.wait_for(lambda: not flooder.sio.connected, within_s=15)
    codes = {e["code"] for e in flooder.errors}
    assert {"rate_limited", "too_many_refusals"} <= codes, codes
    # Reconnecting from the same address refills nothing: the address's bucket is the one that counts.
    started, answered = time.monotonic(), 0
    for _ in range(10):
        again = await target.viewer(room, flooder_address).connect()
        for _ in range(30):
            await again.emit("no-such-event")
        await again.wait_for(answered_all(again, 30))
        answered += sum(e["code"] == "unknown_event" for e in again.errors)
        await again.disconnect()
    allowed = 40 + 20 * (time.monotonic() - started)
    assert answered <= allowed, f"{answered} of 300 events taken across reconnects"
    # Meanwhile another room's presenter and viewer were served as usual.
    speaker = await target.presenter(other, address()).connect()
    audience = await target.viewer(other, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "Unaffected."})
    await audience.wait_for(lambda: [c["text"] for c in audience.finals] == ["Unaffected."])
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    for client in (speaker, audience):
        await client.disconnect()


async def test_request_bodies_are_capped_before_they_are_read(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    path = f"/api/rooms/{room['id']}/embed-origins"
    before = target.rss_mb()
    # 100 MB announced: the answer comes before a byte of it is sent.
    declared = await raw_http(target, f"PUT {path}", address(), {"Content-Length": "100000000"}, [])
    # No length given: refused as soon as the streamed body passes the cap.
    streamed = await raw_http(
        target,
        f"PUT {path}",
        address(),
        {"Transfer-Encoding": "chunked"},
        [b"x" * 100_000] * 10 + [b"x" * 100],
    )
    for answer in (declared, streamed):
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":"body_too_large"' in answer
    assert target.rss_mb() - before < 20


async def raw_http(
    target: AbuseTarget, request_line: str, address: str, headers: dict[str, str], chunks: list[bytes]
) -> bytes:
    """An HTTP/1.1 request written by hand: the body sent (chunked) only as far as ``chunks`` go."""
    host, port = target.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = {
        "Host": f"{host}:{port}",
        "Content-Type": "application/json",
        "X-Forwarded-For": address,
        **headers,
    }
    writer.write(f"{request_line} HTTP/1.1\r\n".encode())
    writer.write("".join(f"{name}: {value}\r\n" for name, value in head.items()).encode() + b"\r\n")
    for chunk in chunks:
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # the refusal closes the connection
    writer.close()
    return answer


async def test_a_viewer_that_stops_reading_is_disconnected_and_others_keep_up(
    busy_target: AbuseTarget, address: Address
) -> None:
    target = busy_target
    room = await target.create_room(address())
    slow = await stalled_viewer(target.url, address(), {"room": room["id"], "role": "viewer"})
    reader = await target.viewer(room, address()).connect()
    await eventually(lambda: _viewers_are(target, room, 2), 10, "both viewers joined")
    speaker = await target.presenter(room, address()).connect()
    before = target.rss_mb()
    # Long partials, as fast as the room may send: megabytes for a reader that reads nothing.
    sent = 0
    deadline = time.monotonic() + 60  # the kernel takes ~4 MB before the server's own queue grows
    while await room_viewers(target, room, address()) > 1:
        assert time.monotonic() < deadline, "the slow viewer was never disconnected"
        for _ in range(20):
            await speaker.emit("text", {"kind": "partial", "text": f"{sent} " + "word " * 390})
            sent += 1
        await reader.wait_for(received_all(reader, sent))  # the good reader keeps up
    grown = target.rss_mb() - before
    await speaker.emit("text", {"kind": "final", "text": "Still here."})
    await reader.wait_for(lambda: any(c["text"] == "Still here." for c in reader.finals))
    assert len([c for c in reader.captions if c["kind"] == "partial"]) == sent
    assert grown < 50, f"the server grew {grown:.0f} MB for a reader that read nothing"
    async with httpx.AsyncClient(timeout=10) as scraper:
        metrics = (await scraper.get(target.metrics_url)).text
    assert 'captions_clients_disconnected_total{reason="slow_reader"} 1.0' in metrics
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    for client in (speaker, reader):
        await client.disconnect()
    slow.close()


async def _viewers_are(target: AbuseTarget, room: dict[str, Any], count: int) -> bool:
    return await room_viewers(target, room, "198.51.100.1") == count


async def test_room_creation_is_limited_per_address(target: AbuseTarget, address: Address) -> None:
    spammer = address()
    async with target.http(spammer) as http:
        answers = [await http.post("/api/rooms", json={"title": "Spam"}) for _ in range(8)]
    assert [a.status_code for a in answers[:5]] == [201] * 5
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    await target.create_room(address())  # anyone else still can


async def test_connections_per_address_are_capped(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    crowd = address()
    sockets = [await open_socket(target.url, crowd) for _ in range(6)]
    answers = [await join(ws, {"room": room["id"], "role": "viewer"}) for ws in sockets]
    assert all(a.startswith("40") for a in answers[:5])
    assert json.loads(answers[5][2:])["data"]["code"] == "too_many_connections"
    await sockets[0].close()
    await eventually(lambda: _viewers_are(target, room, 4), 10, "the closed connection left")
    again = await open_socket(target.url, crowd)
    assert (await join(again, {"room": room["id"], "role": "viewer"})).startswith("40")
    for ws in [*sockets, again]:
        await ws.close()


async def test_websocket_messages_are_not_deflated_per_connection(
    target: AbuseTarget, address: Address
) -> None:
    """A client that offers permessage-deflate (browsers always do) is answered without it: compression would
    cost a zlib state per socket and a deflate per viewer of every caption, and a storm of joins pays for both."""
    ws = await open_socket(target.url, address())
    try:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
    finally:
        await ws.close()


async def test_a_reconnect_storm_is_refused_at_the_handshake(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    storm, statuses = address(), []
    started = time.monotonic()
    for _ in range(40):  # twice the burst, faster than the rate
        try:
            ws = await open_socket(target.url, storm)
        except InvalidStatus as error:
            statuses.append(error.response.status_code)
            continue
        await join(ws, {"room": room["id"], "role": "viewer"})
        await ws.close()
    allowed = 20 + 5 * (time.monotonic() - started)  # the burst plus the refill, however slow the machine
    assert len(statuses) >= 40 - allowed - 1, f"{len(statuses)} of 40 refused"
    assert set(statuses) == {403}, "some were refused, all closed before the WebSocket was accepted"
    async with target.http(storm) as http:
        for _ in range(10):  # a token may have come back since the last attempt (5/s): polls take it at once
            poll = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            if poll.status_code != 200:
                break
    assert (poll.status_code, poll.json()["code"]) == (429, "rate_limited")
    assert int(poll.headers["Retry-After"]) >= 1
    calm = await target.viewer(room, address()).connect()  # another address is not affected
    await calm.disconnect()


async def test_links_and_qr_codes_come_from_the_public_url(target: AbuseTarget, address: Address) -> None:
    async with target.http(address()) as http:
        created = await http.post("/api/rooms", json={"title": "Hosted"}, headers={"Host": "evil.example"})
        room = created.json()
        qr = await http.get(f"/api/rooms/{room['id']}/qr.svg", headers={"Host": "evil.example"})
    assert room["viewer_url"] == f"{PUBLIC_URL}/r/{room['id']}"
    assert room["embed_url"] == f"{PUBLIC_URL}/embed/{room['id']}"
    assert "public" not in qr.headers["Cache-Control"]


async def test_every_response_carries_security_headers_and_docs_are_off(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    async with target.http(address()) as http:
        answers = {
            "json": await http.get(f"/api/rooms/{room['id']}"),
            "problem": await http.get("/api/rooms/nope-nope"),
            "transcript": await http.get(f"/api/rooms/{room['id']}/sessions"),
            "embed": await http.get(f"/embed/{room['id']}"),
            "docs": await http.get("/docs"),
        }
    assert answers["docs"].status_code == 404
    for name, response in answers.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert "Content-Security-Policy" in response.headers, name
    assert "frame-ancestors 'none'" in answers["json"].headers["Content-Security-Policy"]
    assert "frame-ancestors *" in answers["embed"].headers["Content-Security-Policy"], (
        "embeds stay embeddable"
    )


async def test_a_connection_closed_while_connecting_leaves_no_viewer(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    connect = "40" + json.dumps({"room": room["id"], "role": "viewer"})
    for _ in range(10):
        # Long-polling: the connect and the close arrive as two requests at once.
        async with target.http(address()) as http:
            opened = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            sid = json.loads(opened.text[1:])["sid"]
            session = {"EIO": "4", "transport": "polling", "sid": sid}
            await asyncio.gather(
                http.post("/socket.io/", params=session, content=connect),
                http.post("/socket.io/", params=session, content="1"),
                return_exceptions=True,
            )
    for _ in range(10):
        # WebSocket: the close right behind the connect.
        ws = await open_socket(target.url, address())
        await ws.send(connect)
        await ws.close()
    real = await target.viewer(room, address()).connect()
    await real.wait_for(lambda: bool(real.statuses))
    await eventually(lambda: _viewers_are(target, room, 1), 10, "only the real viewer counts")
    await real.disconnect()


async def test_exported_cue_text_is_escaped(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "a ---> b <i>x</i> & y"})
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.disconnect()
    async with target.http(address()) as http:
        vtt = (await http.get(f"/api/rooms/{room['id']}/transcript.vtt")).text
        srt = (await http.get(f"/api/rooms/{room['id']}/transcript.srt")).text
    assert "a ---&gt; b &lt;i&gt;x&lt;/i&gt; &amp; y" in vtt
    assert vtt.count("-->") == 1
    assert srt.count("-->") == 1
    assert "<i>" not in srt


async def test_a_storm_from_many_addresses_meets_the_process_connect_limit(
    engine: Engine, tmp_path: Path
) -> None:
    """Each address stays under its own rate; the busy ones together meet the process's, before any handshake,
    while a person on their own address still gets in."""
    settings = Settings(
        data_dir=tmp_path / "data",
        web_dir=tmp_path / "none",
        trusted_proxies=["127.0.0.1"],
        process_connect_rate=0.001,  # no refill while the test runs: the burst is the whole allowance
        process_connect_burst=3,
        refusal_delay_s=0.0,  # a refusal's second would refill the calm addresses' buckets mid-test
    )
    async with Server(settings, engine) as server:
        room = await server.create_room()

        async def joins(address: str) -> bool | int:
            """True when let in, else the handshake's HTTP status."""
            try:
                ws = await open_socket(server.url, address)
            except InvalidStatus as refused:
                return refused.response.status_code
            accepted = (await join(ws, {"room": room["id"], "role": "viewer"})).startswith("40")
            await ws.close()
            return accepted

        first, second = "203.0.113.1", "203.0.113.2"
        calm = [await joins(address) for address in (first, second) for _ in range(CALM_CONNECT_BURST)]
        assert calm == [True] * len(calm), "an address's first connections never wait for the process"
        busy = [await joins(first) for _ in range(3)]
        assert busy == [True] * 3, "then the process's burst"
        assert await joins(first) == 403, "closed before the WebSocket was accepted"
        assert await joins(second) == 403, "busy addresses share the process's rate"
        async with httpx.AsyncClient(base_url=server.url, headers={"X-Forwarded-For": second}) as http:
            poll = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            page = await http.get("/api/rooms/" + room["id"])
        assert (poll.status_code, poll.json()["code"]) == (429, "rate_limited")
        assert "too many new connections" in poll.json()["detail"]
        assert page.status_code == 200, "only new connections are limited"
        assert await joins("203.0.113.9") is True, "a person on their own address still gets in"


async def test_rooms_beyond_max_rooms_get_capacity_and_others_go_on(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        web_dir=tmp_path / "none",
        max_rooms=2,
        admission_wait_s=ADMISSION_WAIT_S,
        max_live_rooms_per_client=3,  # every presenter here is 127.0.0.1: capacity is what is tested
    )
    async with Server(settings, engine) as server:
        rooms = [await server.create_room() for _ in range(3)]
        speakers = [await presenter(server, room).connect() for room in rooms]
        for speaker in speakers[:2]:
            await speaker.emit("start")
            await speaker.wait_for(refused_with(speaker, None))
        late = speakers[2]
        await late.emit("start")
        refusal = await late.error("capacity")
        assert "try again" in refusal["message"]
        await late.emit(
            "text", {"kind": "final", "text": "Not now."}
        )  # still refused, not counted against it
        await late.wait_for(lambda: len(late.errors) == 2)
        await speakers[0].emit("text", {"kind": "final", "text": "The first room goes on."})
        await speakers[0].wait_for(lambda: bool(speakers[0].finals))
        await speakers[0].emit("stop")
        await speakers[0].wait_for(speakers[0].ended)
        # The first room's slot is free once its session ended: the refused room starts after its cool-down.
        deadline = time.monotonic() + 20
        while late.session != "live":
            assert time.monotonic() < deadline, late.errors
            refusals = len(late.errors)
            await late.emit("start")
            await late.wait_for(refused_with(late, "capacity", after=refusals))
            if late.session != "live":
                await asyncio.sleep(ADMISSION_WAIT_S)  # the refusal's cool-down is a rule of time
        for speaker in speakers[1:]:
            await speaker.emit("stop")
            await speaker.wait_for(speaker.ended)
        for speaker in speakers:
            await speaker.disconnect()


async def test_a_private_room_needs_its_viewer_token(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address(), "Board meeting", private=True)
    token = room["viewer_token"]
    assert room["viewer_url"].endswith(f"#token={token}"), "the token is in the fragment: never logged"
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "Confidential."})
    await speaker.wait_for(lambda: bool(speaker.finals))
    async with target.http(address()) as http:
        paths = [f"/api/rooms/{room['id']}", f"/api/rooms/{room['id']}/transcript.txt",
                 f"/api/rooms/{room['id']}/sessions", f"/api/rooms/{room['id']}/qr.svg"]  # fmt: skip
        for path in paths:
            refused = await http.get(path)
            assert (refused.status_code, refused.json()["code"]) == (403, "private_room"), path
            wrong = await http.get(path, headers={"X-Viewer-Token": token[:-2] + "xx"})
            assert wrong.status_code == 403, path
            allowed = await http.get(path, headers={"X-Viewer-Token": token})
            assert allowed.status_code == 200, path
        assert "Confidential." in (await http.get(paths[1], headers={"X-Viewer-Token": token})).text
        embed = (await http.get(f"/embed/{room['id']}")).text
    assert "Board meeting" not in embed
    assert "Confidential." not in embed
    ws = await open_socket(target.url, address())
    refusal = await join(ws, {"room": room["id"], "role": "viewer"})
    assert json.loads(refusal[2:])["data"]["code"] == "private_room"
    await ws.close()
    member = await target.viewer(room, address(), token=token).connect()
    await member.wait_for(lambda: [c["text"] for c in member.finals] == ["Confidential."])
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    for client in (speaker, member):
        await client.disconnect()

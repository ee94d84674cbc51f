"""Abuse below Socket.IO, at the Engine.IO layer of a real ``captions serve``: handshakes dressed up as existing
sessions, connections that never join a room, packet floods, malformed packets (issue #29). Each test fails
on the server without the defence it names."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from tests.abuse.conftest import JOIN_WITHIN_S
from tests.support.abuse import AbuseTarget
from tests.support.raw_socketio import join, open_socket

Address = Callable[[], str]
CLOSED_WITHIN_S = JOIN_WITHIN_S + 10  # the deadline, and a busy machine's delay in noticing it


async def closed_by_the_server(ws: ClientConnection, within_s: float = CLOSED_WITHIN_S) -> list[str | bytes]:
    """Everything the server still sent, once it closed the connection (it is never closed here, and Engine.IO's
    pings are answered as a live client would, so only the defence under test closes it)."""
    received: list[str | bytes] = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            message = await asyncio.wait_for(ws.recv(), within_s)
            if message == "2":
                await ws.send("3")
            received.append(message)
    return received


async def disconnects(target: AbuseTarget, reason: str) -> float:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(target.metrics_url)).text
    found = re.search(
        rf'^captions_clients_disconnected_total{{reason="{reason}"}} (\S+)$', text, re.MULTILINE
    )
    return float(found.group(1)) if found else 0.0


async def test_handshakes_dressed_up_as_existing_sessions_are_counted_as_new_ones(
    target: AbuseTarget, address: Address
) -> None:
    """Engine.IO opens a new session for an empty ``sid=`` or any other parameter that merely ends in it: the
    gate must see a handshake wherever Engine.IO does."""
    for query in ("&sid=", "&xsid=1"):
        storm, refusals, opened = address(), [], 0
        for _ in range(60):  # three times the burst (20), faster than the rate (5/s)
            try:
                ws = await open_socket(target.url, storm, query)
            except InvalidStatus as error:
                refusals.append(error.response.status_code)
                continue
            opened += 1
            await ws.close()
        assert opened < 60, f"{query!r}: all 60 opened"
        assert set(refusals) == {403}, "refused before the WebSocket was accepted"


async def test_a_connection_that_never_joins_holds_a_slot_until_it_is_closed(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    viewer = {"room": room["id"], "role": "viewer"}
    crowd = address()
    idle = [await open_socket(target.url, crowd) for _ in range(5)]  # the address's cap, none in a room
    late = await open_socket(target.url, crowd)
    answer = await join(late, viewer)
    assert json.loads(answer[2:])["data"]["code"] == "too_many_connections", answer
    for ws in (*idle, late):
        await closed_by_the_server(ws)
    again = await open_socket(target.url, crowd)
    assert (await join(again, viewer)).startswith("40"), "the closed connections gave their slots back"
    await again.close()


async def test_a_connection_that_left_its_room_is_closed(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    ws = await open_socket(target.url, address())
    assert (await join(ws, {"room": room["id"], "role": "viewer"})).startswith("40")
    await asyncio.sleep(JOIN_WITHIN_S + 1)  # time passing is what is tested: a member outlives the deadline
    assert ws.state is State.OPEN, "a connection in a room is not closed by the join deadline"
    await ws.send("41")
    await closed_by_the_server(ws)


async def test_a_packet_flood_closes_the_connection_and_is_never_answered(
    target: AbuseTarget, address: Address
) -> None:
    """Engine.IO answers each ``upgrade`` packet with a packet queued for the client: 5,000 of them from a client
    that reads nothing would be 5,000 queued answers. None is answered, and past the packet burst the
    connection is closed."""
    before = await disconnects(target, "packet_flood")
    ws = await open_socket(target.url, address())
    with contextlib.suppress(ConnectionClosed):
        for _ in range(5_000):
            await ws.send("5")
    received = await closed_by_the_server(ws)
    assert "6" not in received, f"{received.count('6')} upgrade packets answered"
    assert await disconnects(target, "packet_flood") == before + 1


# Engine.IO cannot decode the first three; python-socketio cannot dispatch the others.
MALFORMED = ["", "x", "9", "42", "42[]", "42{}", "42" + "[" * 5_000 + "]" * 5_000]


async def test_a_malformed_packet_closes_its_connection_with_one_line_in_the_log(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    viewer = {"room": room["id"], "role": "viewer"}
    bystander = await target.viewer(room, address()).connect()
    for bad in MALFORMED:
        ws = await open_socket(target.url, address())
        assert (await join(ws, viewer)).startswith("40")
        logged = target.process.log.stat().st_size
        await ws.send(bad)
        await closed_by_the_server(ws)
        written = target.process.log.read_bytes()[logged:].decode(errors="replace")
        assert "Traceback" not in written, f"{bad[:12]!r}: {written[:800]}"
        assert len(written.splitlines()) <= 1, f"{bad[:12]!r}: {written[:800]}"
    assert bystander.sio.connected, "nobody else noticed"
    await bystander.disconnect()


async def test_an_event_named_by_no_string_gets_a_coded_error(target: AbuseTarget, address: Address) -> None:
    room = await target.create_room(address())
    ws = await open_socket(target.url, address())
    assert (await join(ws, {"room": room["id"], "role": "viewer"})).startswith("40")
    logged = target.process.log.stat().st_size
    for named_by_no_string in ('42[1,"x"]', "42[null]"):
        await ws.send(named_by_no_string)
        answer = ""
        while not answer.startswith('42["error"'):
            answer = str(await asyncio.wait_for(ws.recv(), 10))
        assert json.loads(answer[2:])[1]["code"] == "unknown_event"
    assert "Traceback" not in target.process.log.read_bytes()[logged:].decode(errors="replace")
    await ws.close()

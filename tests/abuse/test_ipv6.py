"""Per-address limits against a client with a whole IPv6 /64 (what one subscriber is given): every address in
it counts as one."""

from __future__ import annotations

import json

from tests.support.abuse import AbuseTarget
from tests.support.raw_socketio import join, open_socket


async def test_every_address_of_one_ipv6_64_shares_one_connection_cap(target: AbuseTarget) -> None:
    room = await target.create_room("2001:db8:29:1::1")
    viewer = {"room": room["id"], "role": "viewer"}
    # The cap is 5; each connection from an address of its own, all in 2001:db8:29:2::/64.
    sockets = [await open_socket(target.url, f"2001:db8:29:2:{n:x}::{n + 1:x}") for n in range(6)]
    answers = [await join(ws, viewer) for ws in sockets]
    assert all(answer.startswith("40") for answer in answers[:5]), answers
    assert json.loads(answers[5][2:])["data"]["code"] == "too_many_connections"
    neighbour = await open_socket(target.url, "2001:db8:29:3::1")  # the next /64 is someone else
    assert (await join(neighbour, viewer)).startswith("40")
    for ws in (*sockets, neighbour):
        await ws.close()

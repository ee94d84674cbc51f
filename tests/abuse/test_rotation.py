"""Rotation (issue #29 item 6): a leaked presenter key or viewer link is replaced with
``POST /api/rooms/{id}/rotate``; whoever holds the old one is disconnected at once and refused from then on, and
the new one works at once. Against a real ``captions serve``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.abuse import AbuseTarget
from tests.support.harness import Client
from tests.support.raw_socketio import join, open_socket

Address = Callable[[], str]


async def rotate(target: AbuseTarget, address: str, room: dict[str, Any], key: str, **body: bool) -> Any:
    async with target.http(address) as http:
        return await http.post(f"/api/rooms/{room['id']}/rotate", json=body, headers={"X-Presenter-Key": key})


async def refusal(target: AbuseTarget, address: str, auth: dict[str, Any]) -> str:
    ws = await open_socket(target.url, address)
    answer = await join(ws, auth)
    await ws.close()
    assert answer.startswith("44"), answer
    code: str = json.loads(answer[2:])["data"]["code"]
    return code


def told_and_gone(client: Client) -> Callable[[], bool]:
    return lambda: any(e["code"] == "credentials_rotated" for e in client.errors) and not client.sio.connected


async def test_rotating_a_private_rooms_secrets_lets_go_of_their_old_holders(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address(), "Board meeting", private=True)
    old_key, old_token = room["presenter_key"], room["viewer_token"]
    speaker = await target.presenter(room, address()).connect()
    member = await target.viewer(room, address(), token=old_token).connect()
    by_key = await target.viewer(room, address(), key=old_key).connect()
    await speaker.emit("text", {"kind": "final", "text": "Before the leak."})
    await member.wait_for(lambda: len(member.finals) == 1)

    wrong = await rotate(target, address(), room, old_key[:-2] + "xx")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "bad_key")
    nothing = await rotate(target, address(), room, old_key, presenter_key=False)
    assert (nothing.status_code, nothing.json()["code"]) == (422, "nothing_to_rotate")
    assert member.sio.connected, "a refused rotation changes nothing"
    assert speaker.sio.connected

    rotated = await rotate(target, address(), room, old_key, presenter_key=True, viewer_token=True)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["presenter_key"] not in (None, old_key)
    assert new["viewer_token"] not in (None, old_token)
    assert new["viewer_url"].endswith(f"/r/{room['id']}#token={new['viewer_token']}")
    for holder in (speaker, member, by_key):
        await holder.wait_for(told_and_gone(holder), within_s=10)

    assert (
        await refusal(target, address(), {"room": room["id"], "role": "presenter", "key": old_key})
        == "bad_key"
    )
    viewer_auth = {"room": room["id"], "role": "viewer", "token": old_token}
    assert await refusal(target, address(), viewer_auth) == "private_room"
    async with target.http(address()) as http:
        old = await http.get(f"/api/rooms/{room['id']}/transcript.txt", headers={"X-Viewer-Token": old_token})
        assert (old.status_code, old.json()["code"]) == (403, "private_room")
        fresh = await http.get(
            f"/api/rooms/{room['id']}/transcript.txt", headers={"X-Viewer-Token": new["viewer_token"]}
        )
        assert "Before the leak." in fresh.text
    again = await target.presenter({**room, "presenter_key": new["presenter_key"]}, address()).connect()
    audience = await target.viewer(room, address(), token=new["viewer_token"]).connect()
    await again.emit("text", {"kind": "final", "text": "After it."})
    await audience.wait_for(lambda: "After it." in [c["text"] for c in audience.finals])
    await again.emit("stop")
    await again.wait_for(again.ended)
    for client in (again, audience):
        await client.disconnect()


async def test_rotating_the_key_keeps_the_audience_of_a_public_room(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address(), "Keynote")
    speaker = await target.presenter(room, address()).connect()
    audience = await target.viewer(room, address()).connect()
    public = await rotate(target, address(), room, room["presenter_key"], viewer_token=True)
    assert (public.status_code, public.json()["code"]) == (422, "public_room")
    rotated = await rotate(target, address(), room, room["presenter_key"])
    assert rotated.json()["viewer_token"] is None
    await speaker.wait_for(told_and_gone(speaker), within_s=10)
    # The room stays served (its audience is here): the server's copy of it must have the new key already.
    old = {"room": room["id"], "role": "presenter", "key": room["presenter_key"]}
    assert await refusal(target, address(), old) == "bad_key"
    again = await target.presenter(
        {**room, "presenter_key": rotated.json()["presenter_key"]}, address()
    ).connect()
    await again.emit("text", {"kind": "final", "text": "Still here?"})
    await audience.wait_for(lambda: [c["text"] for c in audience.finals] == ["Still here?"])
    assert audience.sio.connected, "a public room's audience needs no secret"
    assert not audience.errors
    await again.emit("stop")
    await again.wait_for(again.ended)
    for client in (again, audience):
        await client.disconnect()

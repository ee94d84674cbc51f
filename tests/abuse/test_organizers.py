"""Admission for public deployments (issue #29): with ``CAPTIONS_ROOM_CREATION=organizers`` only an organizer's
token creates rooms, and each organizer's rooms share that organizer's quotas (live rooms at once, audio a day,
stored captions) whatever addresses they are presented from. One real ``captions serve`` and the real
``captions organizers`` command on the same data."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.abuse import AbuseTarget, serve_target
from tests.support.harness import Client, pcm_frames, stream
from tests.support.speech import SHIPPED_AUDIO_DIR

AUDIO_HOURS = 0.001  # 3.6 s of audio a day
STORED_MB = 0.0002  # 200 bytes of captions


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("organizers")


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[AbuseTarget]:
    yield from serve_target(
        data,
        {
            "CAPTIONS_ROOM_CREATION": "organizers",
            "CAPTIONS_ORGANIZER_LIVE_ROOMS": "1",
            "CAPTIONS_AUDIO_HOURS_PER_DAY": str(AUDIO_HOURS),
            "CAPTIONS_ORGANIZER_STORED_MB": str(STORED_MB),
        },
    )


def environment(data: Path) -> dict[str, str]:
    return {"CAPTIONS_DATA_DIR": str(data / "data")}


def organizers(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``captions organizers ...`` as the operator runs it, on the server's data."""
    return subprocess.run(
        [sys.executable, "-m", "captions.cli", "organizers", *args],
        env={**_inherited(), **environment(data)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _inherited() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("CAPTIONS_")}


def add_organizer(data: Path, name: str) -> str:
    added = organizers(data, "add", name)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


ROOM_ADDRESSES = (f"192.0.2.{n}" for n in range(100, 255))  # rooms per address are limited before Python


async def create(server: AbuseTarget, token: str | None, address: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with server.http(address or next(ROOM_ADDRESSES)) as http:
        return await http.post("/api/rooms", json={"title": "Event day"}, headers=headers)


async def room_of(server: AbuseTarget, token: str) -> dict[str, Any]:
    response = await create(server, token)
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


async def test_only_an_organizers_token_creates_rooms_until_it_is_revoked(
    server: AbuseTarget, data: Path
) -> None:
    async with server.http("192.0.2.1") as http:
        assert (await http.get("/api/capabilities")).json()["room_creation"] == "organizers"
    anonymous = await create(server, None)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "organizer_required"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    token = add_organizer(data, "ACME Events")
    assert token.startswith("org_")
    assert (await create(server, token)).status_code == 201
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "org_", token + " extra", "x" * 4000):
        refused = await create(server, wrong)
        assert (refused.status_code, refused.json()["code"]) == (401, "bad_organizer_token"), wrong[:20]
    basic = await create(server, None)
    assert basic.status_code == 401
    listed = organizers(data, "list")
    assert "ACME Events\tactive" in listed.stdout
    assert token not in listed.stdout + listed.stderr
    assert token.encode() not in (data / "data" / "captions.db").read_bytes(), "only its hash is stored"

    assert organizers(data, "add", "ACME Events").returncode == 2, "a name is held by one organizer at a time"
    revoked = organizers(data, "revoke", "ACME Events")
    assert revoked.returncode == 0, revoked.stderr
    gone = await create(server, token)
    assert (gone.status_code, gone.json()["code"]) == (401, "bad_organizer_token")
    assert organizers(data, "revoke", "ACME Events").returncode == 2
    assert "ACME Events\trevoked" in organizers(data, "list").stdout


async def say(speaker: Client, text: str) -> None:
    errors = len(speaker.errors)
    await speaker.emit("text", {"kind": "final", "text": text})
    await speaker.wait_for(lambda: speaker.session == "live" or len(speaker.errors) > errors)


async def test_an_organizers_rooms_share_one_quota_of_live_rooms_from_any_address(
    server: AbuseTarget, data: Path
) -> None:
    first, second = add_organizer(data, "Live rooms A"), add_organizer(data, "Live rooms B")
    talk = await server.presenter(await room_of(server, first), "192.0.2.10").connect()
    await say(talk, "The first talk is live.")
    assert talk.session == "live", talk.errors
    squat = await server.presenter(await room_of(server, first), "192.0.2.11").connect()
    await say(squat, "A second talk of the same organizer, elsewhere.")
    assert squat.errors[-1]["code"] == "too_many_live_rooms"
    assert "organizer" in squat.errors[-1]["message"]
    other = await server.presenter(await room_of(server, second), "192.0.2.10").connect()
    await say(other, "Another organizer's talk, from the same address.")
    assert other.session == "live", other.errors
    await talk.emit("stop")
    await talk.wait_for(talk.ended)
    await say(squat, "Now there is room for it.")
    assert squat.session == "live", squat.errors[-1:]
    for speaker in (squat, other, talk):
        await speaker.disconnect()


async def test_an_organizers_audio_a_day_is_limited_and_the_presenter_is_told(
    server: AbuseTarget, data: Path
) -> None:
    token = add_organizer(data, "Audio a day")
    speaker = await server.presenter(await room_of(server, token), "192.0.2.20").connect()
    frames = pcm_frames(SHIPPED_AUDIO_DIR / "jfk.wav")  # 11 s, well past the 3.6 s a day
    await stream(speaker, frames, realtime=False)
    error = await speaker.error("audio_quota")
    assert "organizer account" in error["message"]
    assert speaker.sio.connected, "a quota is not the client's misbehaviour: it stays connected"
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    accepted = speaker.statuses[-1]["audio_seconds"]
    assert AUDIO_HOURS * 3600 - 0.1 <= accepted <= AUDIO_HOURS * 3600, "what the quota holds, and no more"
    assert all(final["end"] <= accepted + 0.05 for final in speaker.finals), speaker.finals
    # The quota is the organizer's, not the connection's nor the room's: a new room and address get no more.
    again = await server.presenter(await room_of(server, token), "192.0.2.21").connect()
    await stream(again, frames[:5], realtime=False)
    await again.error("audio_quota")
    for client in (speaker, again):
        await client.disconnect()


async def test_an_organizer_whose_rooms_keep_too_much_text_starts_no_new_talk(
    server: AbuseTarget, data: Path
) -> None:
    token = add_organizer(data, "Stored bytes")
    speaker = await server.presenter(await room_of(server, token), "192.0.2.30").connect()
    for number in range(3):  # 3 x 100 bytes: past the 200 bytes their rooms may keep
        await speaker.emit("text", {"kind": "final", "text": f"{number} " + "words " * 16})
    await speaker.wait_for(lambda: len(speaker.finals) == 3)
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.emit("text", {"kind": "final", "text": "A new talk."})
    error = await speaker.error("storage_quota")
    assert "delete rooms" in error["message"]
    fresh = await server.presenter(await room_of(server, token), "192.0.2.31").connect()
    await fresh.emit("start")
    await fresh.error("storage_quota")
    for client in (speaker, fresh):
        await client.disconnect()

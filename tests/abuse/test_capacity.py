"""Fair capacity (issue #29): transcription slots cannot be squatted. A paused session, or one whose presenter
is gone, gives its slot back after a while and takes one again when it goes on (the same session); no one
client holds more than its share of the slots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import partial
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.abuse.conftest import ADMISSION_WAIT_S
from tests.support.harness import Client, Server

RELEASE_S = 1.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        web_dir=tmp_path / "none",
        trusted_proxies=["127.0.0.1"],
        admission_wait_s=ADMISSION_WAIT_S,
        paused_release_s=RELEASE_S,
        absent_release_s=RELEASE_S,
        status_interval_s=0.2,
    )


@pytest.fixture
def addresses() -> Iterator[str]:
    return (f"198.51.100.{n}" for n in count(1))


def presenter_at(server: Server, room: dict[str, Any], address: str) -> Client:
    auth = {"room": room["id"], "role": "presenter", "key": room["presenter_key"]}
    return Client(server.url, auth, headers={"X-Forwarded-For": address})


async def say(speaker: Client, text: str) -> None:
    """A final caption from the browser's recogniser: the session goes live (or is refused)."""
    await speaker.emit("text", {"kind": "final", "text": text})


async def until_live(speaker: Client, text: str, within_s: float = 30) -> None:
    """Asks until the session is live: a refused room is not asked about again for ``admission_wait_s``."""
    deadline = time.monotonic() + within_s
    while speaker.session != "live":
        assert time.monotonic() < deadline, speaker.errors[-3:]
        await say(speaker, text)
        await speaker.wait_for(partial(live_or_refused, speaker, len(speaker.errors)))
        if speaker.session != "live":
            assert speaker.errors[-1]["code"] == "capacity", speaker.errors[-1]
            await asyncio.sleep(ADMISSION_WAIT_S)  # the refusal's cool-down is a rule of time


def live_or_refused(speaker: Client, refusals: int) -> bool:
    return speaker.session == "live" or len(speaker.errors) > refusals


async def refused(speaker: Client, code: str) -> None:
    refusals = len(speaker.errors)
    await say(speaker, "Let me in.")
    await speaker.wait_for(lambda: len(speaker.errors) > refusals)
    assert speaker.errors[-1]["code"] == code, speaker.errors[-1]


async def test_paused_rooms_give_their_slot_back_and_take_one_again_on_resume(
    settings: Settings, engine: Engine, addresses: Iterator[str]
) -> None:
    squatting = settings.model_copy(update={"max_rooms": 2, "max_live_rooms_per_client": 2})
    async with Server(squatting, engine) as server:
        squatter, visitor = next(addresses), next(addresses)
        held = [presenter_at(server, await server.create_room(), squatter) for _ in range(2)]
        for speaker in held:
            await speaker.connect()
            await until_live(speaker, "Mine.")
            await speaker.emit("pause")
            await speaker.wait_for(lambda s=speaker: s.session == "paused")  # type: ignore[misc]
        talk = await presenter_at(server, await server.create_room(), visitor).connect()
        await until_live(talk, "A real talk gets a slot.")
        first, second = held
        sessions = {s["session_id"] for s in first.statuses if s["session_id"]}
        await until_live(first, "And mine goes on.")
        await first.wait_for(lambda: len(first.finals) == 2)
        assert {s["session_id"] for s in first.statuses if s["session_id"]} == sessions, "the same session"
        assert [c["id"].rpartition(":")[2] for c in first.finals] == ["0", "1"], "its captions continue"
        await refused(second, "capacity")  # both slots are taken again
        for speaker in (*held, talk):
            await speaker.emit("stop")
            await speaker.wait_for(speaker.ended)
            await speaker.disconnect()


async def test_a_presenter_gone_gives_the_slot_back_and_takes_one_again_on_return(
    settings: Settings, engine: Engine, addresses: Iterator[str]
) -> None:
    async with Server(settings.model_copy(update={"max_rooms": 1}), engine) as server:
        gone_room, other_room = await server.create_room(), await server.create_room()
        gone = await presenter_at(server, gone_room, next(addresses)).connect()
        await until_live(gone, "Back in a minute.")
        await gone.disconnect()
        other = await presenter_at(server, other_room, next(addresses)).connect()
        await until_live(other, "The slot came back.")
        await other.emit("stop")
        await other.wait_for(other.ended)
        back = await presenter_at(server, gone_room, next(addresses)).connect()
        await back.wait_for(lambda: bool(back.statuses))
        assert back.session == "live", "gone, the talk was not ended: only its slot was given back"
        await say(back, "I am back.")
        await back.wait_for(lambda: len(back.finals) == 2)  # caught up with the first, then the new one
        assert [c["id"].rpartition(":")[2] for c in back.finals] == ["0", "1"], "the same session goes on"
        assert back.finals[0]["session_id"] == back.finals[1]["session_id"]
        await back.emit("stop")
        await back.wait_for(back.ended)
        for speaker in (other, back):
            await speaker.disconnect()


async def test_one_client_holds_at_most_its_share_of_the_slots(
    settings: Settings, engine: Engine, addresses: Iterator[str]
) -> None:
    async with Server(settings.model_copy(update={"max_rooms": 4}), engine) as server:  # a share: 2
        greedy, modest = next(addresses), next(addresses)
        mine = [await presenter_at(server, await server.create_room(), greedy).connect() for _ in range(3)]
        for speaker in mine[:2]:
            await until_live(speaker, "Mine.")
        await refused(mine[2], "too_many_live_rooms")
        theirs = await presenter_at(server, await server.create_room(), modest).connect()
        await until_live(theirs, "Someone else still gets in.")
        await mine[0].emit("stop")
        await mine[0].wait_for(mine[0].ended)
        await until_live(mine[2], "Now it is my turn.")
        for speaker in (*mine[1:], theirs):
            await speaker.emit("stop")
            await speaker.wait_for(speaker.ended)
        for speaker in (*mine, theirs):
            await speaker.disconnect()

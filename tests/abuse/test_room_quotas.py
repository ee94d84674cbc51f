"""What one room may keep (issue #29 item 5): finals per session, sessions per room and caption text per room,
each refused with its own code while the connection stays. Against a real ``captions serve``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.abuse import AbuseTarget, serve_target
from tests.support.harness import Client

Address = Callable[[], str]
FINALS_PER_SESSION, SESSIONS_PER_ROOM, ROOM_BYTES = 3, 2, 500


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbuseTarget]:
    yield from serve_target(
        tmp_path_factory.mktemp("quotas"),
        {
            "CAPTIONS_MAX_FINALS_PER_SESSION": str(FINALS_PER_SESSION),
            "CAPTIONS_MAX_SESSIONS_PER_ROOM": str(SESSIONS_PER_ROOM),
            "CAPTIONS_MAX_ROOM_MB": str(ROOM_BYTES / 1e6),
        },
    )


async def final(speaker: Client, text: str) -> None:
    await speaker.emit("text", {"kind": "final", "text": text})


async def session_of(speaker: Client, *texts: str) -> None:
    """A whole session: its finals stored, then stopped and ended."""
    stored = len(speaker.finals)
    for text in texts:
        await final(speaker, text)
    await speaker.wait_for(lambda: len(speaker.finals) == stored + len(texts))
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)


async def test_a_session_takes_so_many_finals_then_a_new_session_goes_on(
    target: AbuseTarget, address: Address
) -> None:
    speaker = await target.presenter(await target.create_room(address()), address()).connect()
    for number in range(FINALS_PER_SESSION):
        await final(speaker, f"Final {number}.")
    await speaker.wait_for(lambda: len(speaker.finals) == FINALS_PER_SESSION)
    await final(speaker, "One too many.")
    error = await speaker.error("session_full")
    assert "start a new one" in error["message"]
    await speaker.emit("text", {"kind": "partial", "text": "Partials are not kept"})
    assert speaker.sio.connected
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await final(speaker, "A new session.")
    await speaker.wait_for(lambda: speaker.finals[-1]["text"] == "A new session.")
    assert [f["text"] for f in speaker.finals].count("One too many.") == 0
    await speaker.disconnect()


async def test_a_room_keeps_so_many_sessions(target: AbuseTarget, address: Address) -> None:
    speaker = await target.presenter(await target.create_room(address()), address()).connect()
    for number in range(SESSIONS_PER_ROOM):
        await session_of(speaker, f"Session {number}.")
    await final(speaker, "A third session?")
    error = await speaker.error("room_full")
    assert f"{SESSIONS_PER_ROOM} sessions" in error["message"]
    await speaker.disconnect()


async def test_a_room_keeps_so_much_caption_text(target: AbuseTarget, address: Address) -> None:
    speaker = await target.presenter(await target.create_room(address()), address()).connect()
    await session_of(
        speaker, *(f"{n} " + "many words " * 20 for n in range(FINALS_PER_SESSION))
    )  # ~660 bytes
    await speaker.emit("start")
    error = await speaker.error("room_full")
    assert "MB of captions" in error["message"]
    other = await target.presenter(await target.create_room(address()), address()).connect()
    await session_of(other, "Another room has its own room to keep captions.")
    for client in (speaker, other):
        await client.disconnect()

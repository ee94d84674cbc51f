"""Catch-up sends each caption once and in order, even when live captions arrive while it reads the store."""

from __future__ import annotations

import asyncio
from typing import Any

from captions.gateway.catchup import Catchup
from captions.gateway.live import LiveRoom
from captions.protocol import Caption, Status
from captions.roomstate.base import LiveSession
from captions.store.base import CaptionRecord


def record(seq: int) -> CaptionRecord:
    return CaptionRecord(f"s1:{seq}", "room", "s1", seq, f"words {seq}", seq, seq + 0.9)


class SlowStore:
    """A store whose read waits until the test lets it finish: live captions arrive meanwhile."""

    def __init__(self, records: list[CaptionRecord]) -> None:
        self.records = records
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def last_captions(self, session_id: str, count: int) -> list[CaptionRecord]:
        self.reading.set()
        await self.release.wait()
        return self.records[-count:] if count else []

    async def captions(
        self, session_id: str, after_seq: int = -1, limit: int | None = None
    ) -> list[CaptionRecord]:
        found = [r for r in self.records if r.seq > after_seq]
        return found[:limit] if limit is not None else found


async def test_a_final_both_stored_and_live_during_catch_up_is_sent_once() -> None:
    store = SlowStore([record(0), record(1)])
    sent: list[tuple[str, dict[str, Any]]] = []

    async def emit(event: str, data: dict[str, Any], sid: str) -> None:
        sent.append((event, data))

    catchup = Catchup(store, emit, catchup_finals=10)  # type: ignore[arg-type]
    live = LiveRoom("room", "en", LiveSession("s1", "live"))
    catchup.expect(live, "viewer")
    status = Status(room="room", session="live", session_id="s1", presenter_connected=True, viewers=1)
    welcome = asyncio.create_task(catchup.welcome("viewer", live, status, None))
    await store.reading.wait()
    # What the room's fan-out does meanwhile: final 1 (already stored) and then final 2 arrive live.
    stored_and_live = Caption(id="s1:1", kind="final", text="words 1", start=1, end=1.9, session_id="s1")
    newer = Caption(id="s1:2", kind="final", text="words 2", start=2, end=2.9, session_id="s1")
    live.catching_up["viewer"] += [stored_and_live, newer]
    store.release.set()
    await welcome
    assert [event for event, _ in sent] == ["status", "caption", "caption", "caption"]
    assert [data["id"] for event, data in sent if event == "caption"] == ["s1:0", "s1:1", "s1:2"]
    assert "viewer" not in live.catching_up


async def test_a_last_id_of_another_session_gets_the_usual_start_and_a_known_one_what_followed() -> None:
    store = SlowStore([record(n) for n in range(5)])
    store.release.set()
    sent: list[str] = []

    async def emit(event: str, data: dict[str, Any], sid: str) -> None:
        if event == "caption":
            sent.append(data["id"])

    catchup = Catchup(store, emit, catchup_finals=2)  # type: ignore[arg-type]
    live = LiveRoom("room", "en", LiveSession("s1", "live"))
    status = Status(room="room", session="live", session_id="s1", presenter_connected=True, viewers=1)
    for last_id, expected in (
        ("other-room-session:0", ["s1:3", "s1:4"]),
        ("x:²", ["s1:3", "s1:4"]),
        ("s1:" + "9" * 60, ["s1:3", "s1:4"]),
        ("s1:1", ["s1:2", "s1:3", "s1:4"]),
    ):
        sent.clear()
        catchup.expect(live, "viewer")
        await catchup.welcome("viewer", live, status, last_id)
        assert sent == expected, last_id

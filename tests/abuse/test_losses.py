"""Nothing lost (issue #29 item 7): a store that refuses writes for a while under a live talk (SQLite locked by
another process past its busy timeout, as a backup or a long migration would) costs no final: finals are
stored once it answers again, and the audio they cover counts as transcribed only then. A real
``captions serve``, real speech through the real model."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.abuse import AbuseTarget, serve_target
from tests.support.harness import pcm_frames, stream
from tests.support.speech import SpeechCorpus, word_error_rate

LOCKED_S = 8.0  # past SQLite's busy timeout (5 s): each write in that time fails


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("losses")


@pytest.fixture(scope="module")
def target(data: Path) -> Iterator[AbuseTarget]:
    yield from serve_target(data, {})


def lock_the_store(path: Path, released: threading.Event) -> threading.Event:
    """Another process's exclusive lock on the store's file until ``released`` (or ``LOCKED_S``); the event
    returned is set once the lock is held."""
    held = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        released.wait(LOCKED_S)
        connection.execute("ROLLBACK")
        connection.close()

    threading.Thread(target=hold, daemon=True).start()
    return held


async def test_a_store_refusing_writes_under_a_live_talk_loses_no_final(
    target: AbuseTarget, data: Path, speech: SpeechCorpus
) -> None:
    room = await target.create_room("192.0.2.1")
    speaker = await target.presenter(room, "192.0.2.2").connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path("jfk.wav"))))
    await speaker.wait_for(lambda: bool(speaker.finals), within_s=60)
    released = threading.Event()
    held = lock_the_store(data / "data" / "captions.db", released)
    await asyncio.to_thread(held.wait, 10)
    try:
        await talk
    finally:
        released.set()
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended, within_s=60)
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as http:
        stored = (await http.get(f"/api/rooms/{room['id']}/transcript.json")).json()["cues"]
    said = " ".join(cue["text"] for cue in stored)
    assert word_error_rate(speech.reference("jfk.wav"), said) <= 0.2, said
    assert [cue["id"] for cue in stored] == [final["id"] for final in speaker.finals], (
        "viewers saw what is kept"
    )
    assert not speaker.errors, "the presenter's audio was taken all along"
    await speaker.disconnect()

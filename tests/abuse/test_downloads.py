"""Transcript downloads of a long talk are streamed page by page (issue #29 item 5): a real ``captions serve``
sends a session of 150,000 finals in every format while its peak memory stays flat, and each download holds
every final, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import httpx
import pytest

from captions.store.base import RoomRecord, SessionRecord
from captions.store.sqlite import SqliteStore
from tests.support.abuse import rss_mb
from tests.support.processes import CaptionsProcess

FINALS = 150_000
ROOM, SESSION = "long-talk-room", "marathon"
PEAK_GROWTH_MB = 30  # the whole session's finals as records alone would take several times this


def words(seq: int) -> str:
    return f"Final number {seq} of a talk that went on for a very long time indeed."


async def fill(path: Path) -> None:
    store = await SqliteStore.open(path)
    await store.create_room(RoomRecord(ROOM, "Marathon", "en", "hash", datetime.now(UTC)))
    await store.start_session(SessionRecord(SESSION, ROOM, datetime.now(UTC)))
    await store.close()
    async with aiosqlite.connect(path) as db:
        rows = [(f"{SESSION}:{n}", ROOM, SESSION, n, words(n), n * 2.0, n * 2.0 + 1.5) for n in range(FINALS)]
        await db.executemany(
            'INSERT INTO captions (id, room_id, session_id, seq, text, start, "end") VALUES (?, ?, ?, ?, ?, ?, ?)',
            rows,
        )
        await db.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaptionsProcess]:
    folder = tmp_path_factory.mktemp("downloads")
    asyncio.run(fill(folder / "data" / "captions.db"))
    env = {"CAPTIONS_DATA_DIR": str(folder / "data"), "CAPTIONS_WEB_DIR": str(folder / "none"),
           "CAPTIONS_READS_BURST": "1000"}  # fmt: skip
    process = CaptionsProcess("serve", env, folder, "serve")
    try:
        yield process.start()
    finally:
        process.stop()


async def download(server: CaptionsProcess, fmt: str) -> bytes:
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=120) as http,
        http.stream("GET", f"/api/rooms/{ROOM}/sessions/{SESSION}/transcript.{fmt}") as response,
    ):
        assert response.status_code == 200
        return b"".join([chunk async for chunk in response.aiter_bytes()])


async def test_a_long_sessions_transcript_streams_in_every_format_with_flat_memory(
    server: CaptionsProcess,
) -> None:
    before = rss_mb(server.pid, "VmHWM")
    downloads = {fmt: await download(server, fmt) for fmt in ("json", "txt", "vtt", "srt")}
    growth = rss_mb(server.pid, "VmHWM") - before
    assert growth < PEAK_GROWTH_MB, f"the server's peak memory grew {growth:.0f} MB for the downloads"

    cues = json.loads(downloads["json"])["cues"]
    assert [cue["id"] for cue in cues] == [f"{SESSION}:{n}" for n in range(FINALS)]
    assert cues[-1]["text"] == words(FINALS - 1)
    text = downloads["txt"].decode()
    assert text.startswith(words(0) + " " + words(1))
    assert text.endswith(words(FINALS - 1) + "\n")
    for fmt in ("vtt", "srt"):
        body = downloads[fmt].decode()
        assert body.count(" --> ") == FINALS, "each final ends a sentence: one cue each"
        assert body.rstrip().endswith(words(FINALS - 1)), fmt


async def test_the_whole_transcript_view_shows_the_newest_finals_and_links_the_rest(
    server: CaptionsProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        page = (await http.get(f"/embed/{ROOM}?lines=all")).text
    assert page.count('class="final"') == 500
    assert words(FINALS - 1) in page
    assert words(FINALS - 501) not in page
    assert f'href="/api/rooms/{ROOM}/transcript.txt"' in page, "the earlier finals are a link away"

"""One contract, every store: SQLite, and MongoDB through the mongomock-motor fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from captions.store.base import CaptionRecord, RoomGone, RoomRecord, RoomUsage, SessionRecord, Store
from captions.store.sqlite import SqliteStore
from tests.support.stores import open_test_store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        yield opened


def room(room_id: str = "room-1") -> RoomRecord:
    return RoomRecord(room_id, "Keynote", "en", "hash", NOW)


def caption(seq: int, session: str = "s1", text: str | None = None, room_id: str = "room-1") -> CaptionRecord:
    return CaptionRecord(
        f"{session}-{seq}", room_id, session, seq, text or f"words {seq}", seq * 1.0, seq + 0.9
    )


async def test_rooms_are_created_read_and_deleted(store: Store) -> None:
    await store.create_room(room())
    assert await store.get_room("room-1") == room()
    assert await store.get_room("nope") is None
    assert await store.delete_room("room-1") is True
    assert await store.get_room("room-1") is None
    assert await store.delete_room("room-1") is False


async def test_embed_origins_are_kept(store: Store) -> None:
    await store.create_room(room())
    origins = ("https://events.example", "http://localhost:8080")
    await store.set_embed_origins("room-1", origins)
    found = await store.get_room("room-1")
    assert found is not None
    assert found.embed_origins == origins


async def test_a_private_rooms_viewer_token_hash_is_kept(store: Store) -> None:
    private = RoomRecord("room-2", "Board meeting", "en", "hash", NOW, viewer_token_hash="token-hash")
    await store.create_room(private)
    await store.create_room(room())
    assert await store.get_room("room-2") == private
    assert (await store.get_room("room-1") or private).viewer_token_hash == ""


async def test_a_rooms_caption_notice_is_kept(store: Store) -> None:
    await store.create_room(room())
    await store.create_room(
        RoomRecord("room-2", "Panel", "en-GB", "hash", NOW, notice="Live captions by Jane Doe")
    )
    assert (await store.get_room("room-2") or room()).notice == "Live captions by Jane Doe"
    assert (await store.get_room("room-1") or room()).notice == "", "none given: the default is the server's"


async def test_a_rooms_recognizer_and_vocabulary_are_kept(store: Store) -> None:
    await store.create_room(room())
    terms = ("Kubernetes", "Xiaomi", "PyTorch Lightning")
    await store.create_room(
        RoomRecord("room-2", "Panel", "en", "hash", NOW, recognizer="google", vocabulary=terms)
    )
    assert await store.get_room("room-2") == RoomRecord(
        "room-2", "Panel", "en", "hash", NOW, recognizer="google", vocabulary=terms
    )
    first = await store.get_room("room-1")
    assert first is not None
    assert (first.recognizer, first.vocabulary) == ("local", ())
    await store.set_vocabulary("room-1", ("gRPC",))
    assert (await store.get_room("room-1") or room()).vocabulary == ("gRPC",)
    await store.set_vocabulary("room-1", ())
    assert (await store.get_room("room-1") or room()).vocabulary == ()


async def test_a_rooms_usage_counts_its_sessions_and_the_text_of_its_finals(store: Store) -> None:
    await store.create_room(room())
    await store.create_room(room("room-2"))
    assert await store.room_usage("room-1") == RoomUsage(0, 0)
    for session in ("s1", "s2"):
        await store.start_session(SessionRecord(session, "room-1", NOW))
    await store.start_session(SessionRecord("s3", "room-2", NOW))
    await store.append_final(caption(0, "s1", "Grüße"))
    await store.append_final(caption(1, "s2", "hello"))
    await store.append_final(caption(0, "s3", "not this room", room_id="room-2"))
    assert await store.room_usage("room-1") == RoomUsage(2, len("Grüße".encode()) + 5)
    await store.correct("room-1", "s1-0", "")
    assert await store.room_usage("room-1") == RoomUsage(2, 5)


async def test_sessions_ended_before_a_time_expire_with_their_captions(store: Store) -> None:
    await store.create_room(room())
    for session, started in (
        ("old", NOW - timedelta(days=40)),
        ("recent", NOW - timedelta(days=2)),
        ("open", NOW),
    ):
        await store.start_session(SessionRecord(session, "room-1", started))
        await store.append_final(caption(0, session))
    await store.end_session("old", NOW - timedelta(days=40))
    await store.end_session("recent", NOW - timedelta(days=2))
    assert await store.expire_sessions(NOW - timedelta(days=30), 10) == 1
    assert [s.id for s in await store.sessions("room-1")] == ["recent", "open"]
    assert await store.captions("old") == []
    assert [c.id for c in await store.captions("recent")] == ["recent-0"]
    assert await store.room_usage("room-1") == RoomUsage(2, 2 * len("words 0"))
    assert await store.expire_sessions(NOW - timedelta(days=30), 10) == 0
    assert await store.expire_sessions(NOW, 10) == 1, "an open session never expires"


async def test_rotated_secrets_replace_the_old_hashes(store: Store) -> None:
    await store.create_room(RoomRecord("room-1", "Board", "en", "key-1", NOW, viewer_token_hash="token-1"))
    await store.set_secrets("room-1", "key-2", "token-2")
    rotated = await store.get_room("room-1")
    assert rotated is not None
    assert (rotated.key_hash, rotated.viewer_token_hash) == ("key-2", "token-2")


async def test_only_rooms_never_used_and_old_enough_are_unused(store: Store) -> None:
    for number in range(4):
        await store.create_room(RoomRecord(f"old-{number}", "Old", "en", "hash", NOW - timedelta(days=9)))
    await store.create_room(RoomRecord("recent", "New", "en", "hash", NOW))
    await store.start_session(SessionRecord("s1", "old-1", NOW - timedelta(days=8)))
    cutoff = NOW - timedelta(days=7)
    assert await store.unused_rooms(cutoff, 10) == ["old-0", "old-2", "old-3"]
    assert len(await store.unused_rooms(cutoff, 2)) == 2
    await store.delete_room("old-0")
    assert await store.unused_rooms(cutoff, 10) == ["old-2", "old-3"]


async def test_sessions_come_back_oldest_first_with_their_end(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s2", "room-1", NOW + timedelta(hours=1)))
    await store.start_session(SessionRecord("s1", "room-1", NOW))
    await store.end_session("s1", NOW + timedelta(minutes=30))
    sessions = await store.sessions("room-1")
    assert [s.id for s in sessions] == ["s1", "s2"]
    assert sessions[0].ended_at == NOW + timedelta(minutes=30)
    assert sessions[1].ended_at is None


async def test_finals_are_kept_in_order_once_and_after_a_seq(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s1", "room-1", NOW))
    for seq in (0, 2, 1):
        await store.append_final(caption(seq))
    await store.append_final(caption(1, text="a duplicate delivery"))
    assert [c.text for c in await store.captions("s1")] == ["words 0", "words 1", "words 2"]
    assert [c.seq for c in await store.captions("s1", after_seq=0)] == [1, 2]
    assert [c.seq for c in await store.captions("s1", after_seq=-1, limit=2)] == [0, 1]
    assert [c.seq for c in await store.last_captions("s1", 2)] == [1, 2]
    assert await store.last_captions("s1", 0) == []
    assert await store.captions("other") == []


async def test_a_sessions_live_state_and_settled_point_are_kept_until_it_ends(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s1", "room-1", NOW, last_activity=5.0))
    await store.update_session("s1", state="paused", last_seq=41, audio_seconds=4.2, last_activity=9.5)
    await store.settle_session("s1", 30, 3.1, (3.136, 3.648))
    await store.settle_session("s1", 12, 1.3)  # a late report never moves the settled point back
    assert [s.id for s in await store.open_sessions()] == ["s1"]
    found = await store.latest_session("room-1")
    assert found is not None
    assert (found.state, found.last_seq, found.audio_seconds, found.last_activity) == ("paused", 41, 4.2, 9.5)
    assert (found.settled_seq, found.settled_at) == (30, 3.1)
    assert (found.restart_at, found.listen_from) == (3.136, 3.648)
    await store.end_session("s1", NOW + timedelta(minutes=5))
    await store.end_session("s1", NOW + timedelta(minutes=9))  # the first end counts
    await store.update_session("s1", state="live", last_seq=50, audio_seconds=5.0, last_activity=10.0)
    ended = await store.latest_session("room-1")
    assert ended is not None
    assert (ended.state, ended.ended_at, ended.last_seq) == ("ended", NOW + timedelta(minutes=5), 41)
    assert await store.open_sessions() == []
    assert await store.latest_session("room-2") is None


async def test_a_deleted_room_takes_no_more_writes(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s1", "room-1", NOW))
    await store.delete_room("room-1")
    with pytest.raises(RoomGone):
        await store.append_final(caption(0))
    with pytest.raises(RoomGone):
        await store.start_session(SessionRecord("s2", "room-1", NOW))
    assert await store.captions("s1") == []
    assert await store.sessions("room-1") == []


async def test_corrections_replace_the_text_and_are_marked(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s1", "room-1", NOW))
    await store.append_final(caption(0))
    assert await store.correct("room-2", "s1-0", "not my room") is None
    fixed = await store.correct("room-1", "s1-0", "Ask not what your country can do")
    assert fixed is not None
    assert fixed.corrected
    assert (await store.captions("s1"))[0].text == "Ask not what your country can do"
    assert await store.correct("room-1", "missing", "x") is None


async def test_the_rest_of_a_corrected_sentence_is_blanked_in_one_write(store: Store) -> None:
    await store.create_room(room())
    await store.start_session(SessionRecord("s1", "room-1", NOW))
    for seq in range(4):
        await store.append_final(caption(seq))
    await store.blank("room-2", ["s1-1"])  # not that room's
    await store.blank("room-1", ["s1-1", "s1-2"])
    await store.blank("room-1", [])
    assert [(c.text, c.corrected) for c in await store.captions("s1")] == [
        ("words 0", False),
        ("", True),
        ("", True),
        ("words 3", False),
    ]
    assert await store.room_usage("room-1") == RoomUsage(1, 2 * len("words 0"))


async def test_deleting_a_room_removes_its_sessions_and_captions_only(store: Store) -> None:
    for room_id, session in (("room-1", "s1"), ("room-2", "s2")):
        await store.create_room(room(room_id))
        await store.start_session(SessionRecord(session, room_id, NOW))
        await store.append_final(caption(0, session, room_id=room_id))
    await store.delete_room("room-1")
    assert await store.sessions("room-1") == []
    assert await store.captions("s1") == []
    assert [c.id for c in await store.captions("s2")] == ["s2-0"]


async def test_sqlite_files_of_an_earlier_release_are_migrated(tmp_path: Path) -> None:
    path = tmp_path / "captions.db"
    async with aiosqlite.connect(path) as old:
        await old.executescript(
            "CREATE TABLE rooms (id TEXT PRIMARY KEY, title TEXT NOT NULL, language TEXT NOT NULL,"
            " key_hash TEXT NOT NULL, created_at TEXT NOT NULL);"
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, started_at TEXT NOT NULL,"
            " ended_at TEXT);"
            f"INSERT INTO rooms VALUES ('room-1', 'Keynote', 'en', 'hash', '{NOW.isoformat()}');"
            f"INSERT INTO sessions VALUES ('s0', 'room-1', '{NOW.isoformat()}', '{NOW.isoformat()}');"
        )
    store = await SqliteStore.open(path)
    assert await store.get_room("room-1") == room()
    [old_session] = await store.sessions("room-1")
    assert (old_session.state, old_session.ended_at) == ("ended", NOW)
    await store.close()


async def test_sqlite_keeps_everything_across_a_restart(tmp_path: Path) -> None:
    first = await SqliteStore.open(tmp_path / "captions.db")
    await first.create_room(room())
    await first.start_session(SessionRecord("s1", "room-1", NOW))
    await first.append_final(caption(0))
    await first.close()
    second = await SqliteStore.open(tmp_path / "captions.db")
    assert await second.get_room("room-1") == room()
    assert [c.id for c in await second.captions("s1")] == ["s1-0"]
    await second.close()

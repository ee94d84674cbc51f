"""The embedded store: one SQLite file under the data directory (aiosqlite keeps it off the event loop)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import aiosqlite

from captions.store.base import CaptionRecord, RoomRecord, SessionRecord

SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, language TEXT NOT NULL, key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, embed_origins TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    started_at TEXT NOT NULL, ended_at TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_room ON sessions(room_id, started_at);
CREATE TABLE IF NOT EXISTS captions (
    id TEXT PRIMARY KEY, room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, text TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL,
    corrected INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS captions_by_session ON captions(session_id, seq);
"""


class SqliteStore:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path)
        await connection.executescript(SCHEMA)
        async with connection.execute("PRAGMA table_info(rooms)") as cursor:
            columns = {row[1] for row in await cursor.fetchall()}
        if "embed_origins" not in columns:  # files written before embedding existed
            await connection.execute("ALTER TABLE rooms ADD COLUMN embed_origins TEXT NOT NULL DEFAULT ''")
        await connection.commit()
        return cls(connection)

    async def create_room(self, room: RoomRecord) -> None:
        await self._write(
            "INSERT INTO rooms (id, title, language, key_hash, created_at, embed_origins) VALUES (?, ?, ?, ?, ?, ?)",
            (
                room.id,
                room.title,
                room.language,
                room.key_hash,
                room.created_at.isoformat(),
                " ".join(room.embed_origins),
            ),
        )

    async def set_embed_origins(self, room_id: str, origins: tuple[str, ...]) -> None:
        await self._write("UPDATE rooms SET embed_origins = ? WHERE id = ?", (" ".join(origins), room_id))

    async def get_room(self, room_id: str) -> RoomRecord | None:
        async with self._db.execute(
            "SELECT id, title, language, key_hash, created_at, embed_origins FROM rooms WHERE id = ?",
            (room_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return RoomRecord(
            row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), tuple(row[5].split())
        )

    async def delete_room(self, room_id: str) -> bool:
        cursor = await self._db.execute("DELETE FROM rooms WHERE id = ?", (room_id,))
        await self._db.commit()
        return cursor.rowcount > 0

    async def start_session(self, session: SessionRecord) -> None:
        await self._write(
            "INSERT INTO sessions (id, room_id, started_at, ended_at) VALUES (?, ?, ?, NULL)",
            (session.id, session.room_id, session.started_at.isoformat()),
        )

    async def end_session(self, session_id: str, ended_at: datetime) -> None:
        await self._write("UPDATE sessions SET ended_at = ? WHERE id = ?", (ended_at.isoformat(), session_id))

    async def sessions(self, room_id: str) -> list[SessionRecord]:
        async with self._db.execute(
            "SELECT id, room_id, started_at, ended_at FROM sessions WHERE room_id = ? ORDER BY started_at, rowid",
            (room_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            SessionRecord(
                r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3]) if r[3] else None
            )
            for r in rows
        ]

    async def append_final(self, caption: CaptionRecord) -> None:
        await self._write(
            'INSERT OR IGNORE INTO captions (id, room_id, session_id, seq, text, start, "end", corrected) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                caption.id,
                caption.room_id,
                caption.session_id,
                caption.seq,
                caption.text,
                caption.start,
                caption.end,
                int(caption.corrected),
            ),
        )

    async def correct(self, room_id: str, caption_id: str, text: str) -> CaptionRecord | None:
        await self._write(
            "UPDATE captions SET text = ?, corrected = 1 WHERE id = ? AND room_id = ?",
            (text, caption_id, room_id),
        )
        rows = await self._captions("WHERE id = ? AND room_id = ?", (caption_id, room_id))
        return rows[0] if rows else None

    async def captions(self, session_id: str, after_seq: int = -1) -> list[CaptionRecord]:
        return await self._captions("WHERE session_id = ? AND seq > ? ORDER BY seq", (session_id, after_seq))

    async def close(self) -> None:
        await self._db.close()

    async def _captions(self, where: str, params: tuple[object, ...]) -> list[CaptionRecord]:
        query = f'SELECT id, room_id, session_id, seq, text, start, "end", corrected FROM captions {where}'
        async with self._db.execute(query, params) as cursor:
            rows = await cursor.fetchall()
        return [CaptionRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    async def _write(self, query: str, params: tuple[object, ...]) -> None:
        await self._db.execute(query, params)
        await self._db.commit()

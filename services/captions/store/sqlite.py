"""The embedded store: one SQLite file under the data directory (``SqliteConnection`` keeps it off the event
loop)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from captions.protocol import SessionState
from captions.store import sqlite_destinations, sqlite_organizers
from captions.store.base import CaptionRecord, RoomGone, RoomRecord, RoomUsage, SessionRecord
from captions.store.sqlite_connection import SqliteConnection
from captions.store.sqlite_destinations import SqliteDestinations
from captions.store.sqlite_organizers import SqliteOrganizers

# Columns added after the first release, with their definitions: files written before them are migrated.
_ADDED_COLUMNS = {
    "rooms": {
        "embed_origins": "TEXT NOT NULL DEFAULT ''",
        "viewer_token_hash": "TEXT NOT NULL DEFAULT ''",
        "notice": "TEXT NOT NULL DEFAULT ''",
        "recognizer": "TEXT NOT NULL DEFAULT 'local'",
        "vocabulary": "TEXT NOT NULL DEFAULT '[]'",
        "organizer": "TEXT NOT NULL DEFAULT ''",
    },
    "sessions": {
        "state": "TEXT NOT NULL DEFAULT 'ended'",
        "last_seq": "INTEGER NOT NULL DEFAULT -1",
        "audio_seconds": "REAL NOT NULL DEFAULT 0",
        "last_activity": "REAL NOT NULL DEFAULT 0",
        "settled_seq": "INTEGER NOT NULL DEFAULT -1",
        "settled_at": "REAL NOT NULL DEFAULT 0",
        "restart_at": "REAL",
        "listen_from": "REAL NOT NULL DEFAULT 0",
    },
}
_SESSION_COLUMNS = (
    "id, room_id, started_at, ended_at, state, last_seq, audio_seconds, last_activity, settled_seq, settled_at, "
    "restart_at, listen_from"
)

SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, language TEXT NOT NULL, key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, embed_origins TEXT NOT NULL DEFAULT '',
    viewer_token_hash TEXT NOT NULL DEFAULT '', notice TEXT NOT NULL DEFAULT '',
    recognizer TEXT NOT NULL DEFAULT 'local', vocabulary TEXT NOT NULL DEFAULT '[]',
    organizer TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS rooms_by_age ON rooms(created_at);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    started_at TEXT NOT NULL, ended_at TEXT, state TEXT NOT NULL DEFAULT 'live',
    last_seq INTEGER NOT NULL DEFAULT -1, audio_seconds REAL NOT NULL DEFAULT 0,
    last_activity REAL NOT NULL DEFAULT 0, settled_seq INTEGER NOT NULL DEFAULT -1,
    settled_at REAL NOT NULL DEFAULT 0, restart_at REAL, listen_from REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions(ended_at);
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
    def __init__(self, connection: SqliteConnection) -> None:
        self._db = connection
        self._organizers = SqliteOrganizers(connection)
        self._destinations = SqliteDestinations(connection)

    @property
    def organizers(self) -> SqliteOrganizers:
        return self._organizers

    @property
    def destinations(self) -> SqliteDestinations:
        return self._destinations

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await SqliteConnection.open(path)
        for table, added in _ADDED_COLUMNS.items():
            existing = {row[1] for row in await connection.rows(f"PRAGMA table_info({table})")}
            for column, definition in added.items():
                if existing and column not in existing:
                    await connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        await connection.executescript(SCHEMA + sqlite_organizers.SCHEMA + sqlite_destinations.SCHEMA)
        await connection.commit()
        return cls(connection)

    async def create_room(self, room: RoomRecord) -> None:
        await self._write(
            "INSERT INTO rooms (id, title, language, key_hash, created_at, embed_origins, viewer_token_hash, "
            "notice, recognizer, vocabulary, organizer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                room.id,
                room.title,
                room.language,
                room.key_hash,
                room.created_at.isoformat(),
                " ".join(room.embed_origins),
                room.viewer_token_hash,
                room.notice,
                room.recognizer,
                json.dumps(room.vocabulary),
                room.organizer,
            ),
        )

    async def set_embed_origins(self, room_id: str, origins: tuple[str, ...]) -> None:
        await self._write("UPDATE rooms SET embed_origins = ? WHERE id = ?", (" ".join(origins), room_id))

    async def set_vocabulary(self, room_id: str, terms: tuple[str, ...]) -> None:
        await self._write("UPDATE rooms SET vocabulary = ? WHERE id = ?", (json.dumps(terms), room_id))

    async def set_secrets(self, room_id: str, key_hash: str, viewer_token_hash: str) -> None:
        await self._write(
            "UPDATE rooms SET key_hash = ?, viewer_token_hash = ? WHERE id = ?",
            (key_hash, viewer_token_hash, room_id),
        )

    async def get_room(self, room_id: str) -> RoomRecord | None:
        found = await self._db.rows(
            "SELECT id, title, language, key_hash, created_at, embed_origins, viewer_token_hash, notice, "
            "recognizer, vocabulary, organizer FROM rooms WHERE id = ?",
            (room_id,),
        )
        if not found:
            return None
        row = found[0]
        return RoomRecord(
            row[0],
            row[1],
            row[2],
            row[3],
            datetime.fromisoformat(row[4]),
            tuple(row[5].split()),
            row[6],
            row[7],
            row[8],
            tuple(json.loads(row[9])),
            row[10],
        )

    async def room_usage(self, room_id: str) -> RoomUsage:
        found = await self._db.rows(
            "SELECT (SELECT COUNT(*) FROM sessions WHERE room_id = ?), "
            "(SELECT COALESCE(SUM(LENGTH(CAST(text AS BLOB))), 0) FROM captions WHERE room_id = ?)",
            (room_id, room_id),
        )
        return RoomUsage(int(found[0][0]), int(found[0][1])) if found else RoomUsage(0, 0)

    async def unused_rooms(self, created_before: datetime, limit: int) -> list[str]:
        found = await self._db.rows(
            "SELECT id FROM rooms r WHERE created_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room_id = r.id) ORDER BY created_at LIMIT ?",
            (created_before.isoformat(), limit),
        )
        return [row[0] for row in found]

    async def delete_room(self, room_id: str) -> bool:
        return await self._db.write("DELETE FROM rooms WHERE id = ?", (room_id,)) > 0

    async def expire_sessions(self, ended_before: datetime, limit: int) -> int:
        # Their captions go with them (ON DELETE CASCADE).
        return await self._db.write(
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ? "
            "LIMIT ?)",
            (ended_before.isoformat(), limit),
        )

    async def start_session(self, session: SessionRecord) -> None:
        await self._write(
            f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, -1, 0, NULL, 0)",
            (session.id, session.room_id, session.started_at.isoformat(), session.state,
             session.last_seq, session.audio_seconds, session.last_activity),
        )  # fmt: skip

    async def update_session(
        self,
        session_id: str,
        *,
        state: SessionState,
        last_seq: int,
        audio_seconds: float,
        last_activity: float,
    ) -> None:
        await self._write(
            "UPDATE sessions SET state = ?, last_seq = ?, audio_seconds = ?, last_activity = ? "
            "WHERE id = ? AND ended_at IS NULL",
            (state, last_seq, audio_seconds, last_activity, session_id),
        )

    async def settle_session(
        self, session_id: str, seq: int, at: float, restart: tuple[float, float] | None = None
    ) -> None:
        restart_at, listen_from = restart or (None, 0.0)
        await self._write(
            "UPDATE sessions SET settled_seq = ?, settled_at = ?, restart_at = ?, listen_from = ? "
            "WHERE id = ? AND settled_seq < ?",
            (seq, at, restart_at, listen_from, session_id, seq),
        )

    async def end_session(self, session_id: str, ended_at: datetime) -> None:
        await self._write(
            "UPDATE sessions SET ended_at = ?, state = 'ended' WHERE id = ? AND ended_at IS NULL",
            (ended_at.isoformat(), session_id),
        )

    async def sessions(self, room_id: str) -> list[SessionRecord]:
        return await self._sessions("WHERE room_id = ? ORDER BY started_at, rowid", (room_id,))

    async def latest_session(self, room_id: str) -> SessionRecord | None:
        found = await self._sessions(
            "WHERE room_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1", (room_id,)
        )
        return found[0] if found else None

    async def open_sessions(self) -> list[SessionRecord]:
        return await self._sessions("WHERE ended_at IS NULL ORDER BY started_at, rowid", ())

    async def append_final(self, caption: CaptionRecord) -> None:
        # A session that is not there fails the insert's foreign key (``OR IGNORE`` does not cover those).
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

    async def blank(self, room_id: str, caption_ids: Sequence[str]) -> None:
        if caption_ids:
            marks = ", ".join("?" * len(caption_ids))
            await self._write(
                f"UPDATE captions SET text = '', corrected = 1 WHERE room_id = ? AND id IN ({marks})",
                (room_id, *caption_ids),
            )

    async def captions(
        self, session_id: str, after_seq: int = -1, limit: int | None = None
    ) -> list[CaptionRecord]:
        return await self._captions(
            "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (session_id, after_seq, -1 if limit is None else limit),
        )

    async def last_captions(self, session_id: str, count: int) -> list[CaptionRecord]:
        if count <= 0:
            return []
        newest = await self._captions("WHERE session_id = ? ORDER BY seq DESC LIMIT ?", (session_id, count))
        return newest[::-1]

    async def close(self) -> None:
        await self._db.close()

    async def _captions(self, where: str, params: tuple[object, ...]) -> list[CaptionRecord]:
        query = f'SELECT id, room_id, session_id, seq, text, start, "end", corrected FROM captions {where}'
        rows = await self._db.rows(query, params)
        return [CaptionRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    async def _sessions(self, where: str, params: tuple[object, ...]) -> list[SessionRecord]:
        rows = await self._db.rows(f"SELECT {_SESSION_COLUMNS} FROM sessions {where}", params)
        return [_session(row) for row in rows]

    async def _write(self, query: str, params: tuple[object, ...]) -> None:
        try:
            await self._db.write(query, params)
        except sqlite3.IntegrityError as error:  # a room deleted meanwhile: its rows may not come back
            raise RoomGone(str(error)) from error


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        id=row[0],
        room_id=row[1],
        started_at=datetime.fromisoformat(row[2]),
        ended_at=datetime.fromisoformat(row[3]) if row[3] else None,
        state=row[4],
        last_seq=row[5],
        audio_seconds=row[6],
        last_activity=row[7],
        settled_seq=row[8],
        settled_at=row[9],
        restart_at=row[10],
        listen_from=row[11],
    )

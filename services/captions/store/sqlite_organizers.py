"""Organizers in the embedded store: a table beside the rooms of the same SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from captions.store.base import OrganizerRecord
from captions.store.sqlite_connection import SqliteConnection

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS organizers_holding_tokens ON organizers(name) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS rooms_by_organizer ON rooms(organizer);
CREATE INDEX IF NOT EXISTS captions_by_room ON captions(room_id);
"""
_COLUMNS = "id, name, token_hash, created_at, revoked_at"


class SqliteOrganizers:
    def __init__(self, connection: SqliteConnection) -> None:
        self._db = connection

    async def add(self, organizer: OrganizerRecord) -> None:
        try:
            await self._db.write(
                f"INSERT INTO organizers ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
                (organizer.id, organizer.name, organizer.token_hash, organizer.created_at.isoformat()),
            )
        except sqlite3.IntegrityError as error:
            raise ValueError(f"there is an organizer {organizer.name!r} already") from error

    async def by_token(self, token_hash: str) -> OrganizerRecord | None:
        found = await self._select("WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))
        return found[0] if found else None

    async def all(self) -> list[OrganizerRecord]:
        return await self._select("ORDER BY created_at, rowid", ())

    async def revoke(self, name: str, at: datetime) -> bool:
        revoked = await self._db.write(
            "UPDATE organizers SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            (at.isoformat(), name),
        )
        return revoked > 0

    async def stored_bytes(self, organizer_id: str) -> int:
        found = await self._db.rows(
            "SELECT COALESCE(SUM(LENGTH(CAST(c.text AS BLOB))), 0) FROM captions c "
            "WHERE c.room_id IN (SELECT id FROM rooms WHERE organizer = ?)",
            (organizer_id,),
        )
        return int(found[0][0]) if found else 0

    async def _select(self, where: str, params: tuple[object, ...]) -> list[OrganizerRecord]:
        rows = await self._db.rows(f"SELECT {_COLUMNS} FROM organizers {where}", params)
        return [_organizer(row) for row in rows]


def _organizer(row: Any) -> OrganizerRecord:
    return OrganizerRecord(
        row[0],
        row[1],
        row[2],
        datetime.fromisoformat(row[3]),
        datetime.fromisoformat(row[4]) if row[4] else None,
    )

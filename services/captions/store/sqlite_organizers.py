"""Organizers in the embedded store: a table beside the rooms of the same SQLite file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from captions.store.base import OrganizerRecord

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
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def add(self, organizer: OrganizerRecord) -> None:
        try:
            await self._db.execute(
                f"INSERT INTO organizers ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
                (organizer.id, organizer.name, organizer.token_hash, organizer.created_at.isoformat()),
            )
        except aiosqlite.IntegrityError as error:
            await self._db.rollback()
            raise ValueError(f"there is an organizer {organizer.name!r} already") from error
        await self._db.commit()

    async def by_token(self, token_hash: str) -> OrganizerRecord | None:
        found = await self._select("WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))
        return found[0] if found else None

    async def all(self) -> list[OrganizerRecord]:
        return await self._select("ORDER BY created_at, rowid", ())

    async def revoke(self, name: str, at: datetime) -> bool:
        cursor = await self._db.execute(
            "UPDATE organizers SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            (at.isoformat(), name),
        )
        await self._db.commit()
        return cursor.rowcount > 0

    async def stored_bytes(self, organizer_id: str) -> int:
        async with self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(CAST(c.text AS BLOB))), 0) FROM captions c "
            "WHERE c.room_id IN (SELECT id FROM rooms WHERE organizer = ?)",
            (organizer_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _select(self, where: str, params: tuple[object, ...]) -> list[OrganizerRecord]:
        async with self._db.execute(f"SELECT {_COLUMNS} FROM organizers {where}", params) as cursor:
            rows = await cursor.fetchall()
        return [_organizer(row) for row in rows]


def _organizer(row: Any) -> OrganizerRecord:
    return OrganizerRecord(
        row[0],
        row[1],
        row[2],
        datetime.fromisoformat(row[3]),
        datetime.fromisoformat(row[4]) if row[4] else None,
    )

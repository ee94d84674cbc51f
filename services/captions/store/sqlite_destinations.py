"""Destinations in the embedded store: a table beside the rooms, deleted with its room."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from captions.store.base import DestinationRecord, RoomGone
from captions.store.sqlite_connection import SqliteConnection

SCHEMA = """
CREATE TABLE IF NOT EXISTS destinations (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE, id TEXT NOT NULL,
    position INTEGER NOT NULL, kind TEXT NOT NULL, sealed TEXT NOT NULL, target TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'ok', error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (room_id, id)
);
"""
_COLUMNS = "room_id, id, position, kind, sealed, target, progress, state, error"


class SqliteDestinations:
    def __init__(self, connection: SqliteConnection) -> None:
        self._db = connection

    async def replace(self, room_id: str, destinations: Sequence[DestinationRecord]) -> None:
        kept = [d.id for d in destinations]
        marks = ",".join("?" * len(kept))

        def replaced(db: sqlite3.Connection) -> bool:
            if db.execute("SELECT 1 FROM rooms WHERE id = ?", (room_id,)).fetchone() is None:
                return False
            db.execute(
                f"DELETE FROM destinations WHERE room_id = ? AND id NOT IN ({marks})", (room_id, *kept)
            )
            db.executemany(
                f"INSERT INTO destinations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, '', 'ok', '') "
                "ON CONFLICT (room_id, id) DO UPDATE SET position = excluded.position, kind = excluded.kind, "
                "sealed = excluded.sealed, target = excluded.target, state = 'ok', error = ''",
                [(room_id, d.id, d.position, d.kind, d.sealed, d.target) for d in destinations],
            )
            return True

        try:
            if not await self._db.transaction(replaced):
                raise RoomGone(room_id)
        except sqlite3.IntegrityError as error:  # the room went meanwhile
            raise RoomGone(room_id) from error

    async def of_room(self, room_id: str) -> list[DestinationRecord]:
        rows = await self._db.rows(
            f"SELECT {_COLUMNS} FROM destinations WHERE room_id = ? ORDER BY position", (room_id,)
        )
        return [_destination(row) for row in rows]

    async def save_progress(self, room_id: str, destination_id: str, progress: str) -> None:
        await self._update("progress = ?", (progress,), room_id, destination_id)

    async def save_state(self, room_id: str, destination_id: str, state: str, error: str) -> None:
        await self._update("state = ?, error = ?", (state, error), room_id, destination_id)

    async def _update(
        self, assignments: str, values: tuple[str, ...], room_id: str, destination_id: str
    ) -> None:
        await self._db.write(
            f"UPDATE destinations SET {assignments} WHERE room_id = ? AND id = ?",
            (*values, room_id, destination_id),
        )


def _destination(row: Any) -> DestinationRecord:
    return DestinationRecord(*row)

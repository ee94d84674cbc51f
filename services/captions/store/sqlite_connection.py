"""The embedded store's one SQLite connection, each statement one trip to aiosqlite's thread and back.

aiosqlite hands every call (execute, fetch, cursor close, commit) to its thread and wakes the event loop with the
answer: a write and its commit were two trips, a read with its cursor three. Each trip waits behind what the
thread has queued (other rooms' finals, sessions' progress, destinations' progress) and then for a busy loop to
take the answer, so a final's store write of five trips was where delivery's tail went as the server got busier.
Here a write and its commit (or rollback) are one trip, and a read with its rows is one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class SqliteConnection(aiosqlite.Connection):
    @classmethod
    async def open(cls, path: Path) -> SqliteConnection:
        connection = cls(lambda: sqlite3.connect(path), iter_chunk_size=64)
        await connection
        return connection

    async def write(self, sql: str, params: Sequence[object] = ()) -> int:
        """Runs and commits one statement; the rows it changed. A failed one (a constraint) is rolled back."""
        return await self.transaction(lambda db: db.execute(sql, params).rowcount)

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in the connection's thread, then committed; rolled back if it raises."""
        result: T = await self._execute(self._committed, work)  # type: ignore[no-untyped-call]
        return result

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        return list(await self.execute_fetchall(sql, params))

    def _committed(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            result = work(self._conn)
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()
        return result

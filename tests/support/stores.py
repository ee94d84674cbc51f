"""The stores a contract suite runs against: SQLite, and MongoDB through the mongomock-motor fake (no MongoDB
server can run on the development machine)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from mongomock_motor import AsyncMongoMockClient

from captions.store.base import Store
from captions.store.mongo import MongoStore
from captions.store.sqlite import SqliteStore

StoreKind = Literal["sqlite", "mongo"]


@contextlib.asynccontextmanager
async def open_test_store(kind: StoreKind, folder: Path) -> AsyncIterator[Store]:
    if kind == "sqlite":
        opened: Store = await SqliteStore.open(folder / "captions.db")
    else:
        mongo = MongoStore(AsyncMongoMockClient(tz_aware=True)["captions"])
        await mongo.ensure_indexes()
        opened = mongo
    try:
        yield opened
    finally:
        await opened.close()

"""Which store this process uses: MongoDB when configured, else the embedded SQLite file."""

from __future__ import annotations

from captions.settings import Settings
from captions.store.base import Store
from captions.store.mongo import MongoStore
from captions.store.sqlite import SqliteStore

SQLITE_FILE = "captions.db"


async def open_store(settings: Settings) -> Store:
    if settings.mongodb_url:
        return await MongoStore.connect(settings.mongodb_url)
    return await SqliteStore.open(settings.data_dir / SQLITE_FILE)

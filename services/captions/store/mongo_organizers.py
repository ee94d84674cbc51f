"""Organizers in MongoDB (verified against the mongomock-motor fake: no MongoDB server runs here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from captions.store.base import OrganizerRecord


class MongoOrganizers:
    def __init__(self, database: Any) -> None:
        self._db = database

    async def ensure_indexes(self) -> None:
        # ``active_name`` is set while the organizer holds a token: names are unique among those only.
        await self._db.organizers.create_index([("active_name", ASCENDING)], unique=True, sparse=True)
        await self._db.organizers.create_index([("token_hash", ASCENDING)], unique=True)
        await self._db.rooms.create_index([("organizer", ASCENDING)])

    async def add(self, organizer: OrganizerRecord) -> None:
        try:
            await self._db.organizers.insert_one(
                {
                    "_id": organizer.id,
                    "name": organizer.name,
                    "active_name": organizer.name,
                    "token_hash": organizer.token_hash,
                    "created_at": organizer.created_at,
                    "revoked_at": None,
                }
            )
        except DuplicateKeyError as error:
            raise ValueError(f"there is an organizer {organizer.name!r} already") from error

    async def by_token(self, token_hash: str) -> OrganizerRecord | None:
        doc = await self._db.organizers.find_one({"token_hash": token_hash, "revoked_at": None})
        return _organizer(doc) if doc else None

    async def all(self) -> list[OrganizerRecord]:
        cursor = self._db.organizers.find({}).sort("created_at", ASCENDING)
        return [_organizer(doc) for doc in await cursor.to_list(None)]

    async def revoke(self, name: str, at: datetime) -> bool:
        result = await self._db.organizers.update_one(
            {"active_name": name}, {"$set": {"revoked_at": at}, "$unset": {"active_name": ""}}
        )
        return bool(result.modified_count)

    async def stored_bytes(self, organizer_id: str) -> int:
        rooms = [doc["_id"] async for doc in self._db.rooms.find({"organizer": organizer_id}, {"_id": 1})]
        if not rooms:
            return 0
        # Each caption keeps its text's UTF-8 length (``bytes``): summed by the server, no text transferred.
        pipeline = [
            {"$match": {"room_id": {"$in": rooms}}},
            {"$group": {"_id": None, "bytes": {"$sum": "$bytes"}}},
        ]
        found = await self._db.captions.aggregate(pipeline).to_list(None)
        return int(found[0]["bytes"]) if found else 0


def _organizer(doc: dict[str, Any]) -> OrganizerRecord:
    return OrganizerRecord(
        doc["_id"], doc["name"], doc["token_hash"], doc["created_at"], doc.get("revoked_at")
    )

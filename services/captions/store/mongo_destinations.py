"""Destinations in MongoDB (verified against the mongomock-motor fake: no MongoDB server runs here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING

from captions.store.base import DestinationRecord, RoomGone

_FIELDS = ("room_id", "id", "position", "kind", "sealed", "target", "progress", "state", "error")


class MongoDestinations:
    def __init__(self, database: Any) -> None:
        self._db = database

    async def ensure_indexes(self) -> None:
        await self._db.destinations.create_index([("room_id", ASCENDING), ("position", ASCENDING)])

    async def replace(self, room_id: str, destinations: Sequence[DestinationRecord]) -> None:
        if await self._db.rooms.find_one({"_id": room_id}, {"_id": 1}) is None:
            raise RoomGone(room_id)
        kept = [_key(room_id, d.id) for d in destinations]
        await self._db.destinations.delete_many({"room_id": room_id, "_id": {"$nin": kept}})
        for d in destinations:  # a room has a few (max_destinations)
            await self._db.destinations.update_one(
                {"_id": _key(room_id, d.id)},
                {
                    "$set": {
                        "room_id": room_id,
                        "id": d.id,
                        "position": d.position,
                        "kind": d.kind,
                        "sealed": d.sealed,
                        "target": d.target,
                        "state": "ok",
                        "error": "",
                    },
                    "$setOnInsert": {"progress": ""},
                },
                upsert=True,
            )
        if await self._db.rooms.find_one({"_id": room_id}, {"_id": 1}) is None:  # deleted meanwhile
            await self._db.destinations.delete_many({"room_id": room_id})
            raise RoomGone(room_id)

    async def of_room(self, room_id: str) -> list[DestinationRecord]:
        found = self._db.destinations.find({"room_id": room_id}).sort("position", ASCENDING)
        return [DestinationRecord(*(doc[name] for name in _FIELDS)) async for doc in found]

    async def save_progress(self, room_id: str, destination_id: str, progress: str) -> None:
        await self._db.destinations.update_one(
            {"_id": _key(room_id, destination_id)}, {"$set": {"progress": progress}}
        )

    async def save_state(self, room_id: str, destination_id: str, state: str, error: str) -> None:
        await self._db.destinations.update_one(
            {"_id": _key(room_id, destination_id)}, {"$set": {"state": state, "error": error}}
        )


def _key(room_id: str, destination_id: str) -> str:
    return f"{room_id}/{destination_id}"

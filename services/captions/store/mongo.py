"""The scale-out store: MongoDB through PyMongo's async API (AsyncMongoClient).

Verified here against the mongomock-motor fake (no MongoDB server runs on the development machine) and
against a real server in docker-compose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient

from captions.protocol import SessionState
from captions.store.base import CaptionRecord, RoomGone, RoomRecord, RoomUsage, SessionRecord
from captions.store.mongo_destinations import MongoDestinations
from captions.store.mongo_organizers import MongoOrganizers

DATABASE = "captions"


class MongoStore:
    def __init__(self, database: Any, client: AsyncMongoClient[dict[str, Any]] | None = None) -> None:
        self._db = database
        self._client = client
        self._organizers = MongoOrganizers(database)
        self._destinations = MongoDestinations(database)

    @property
    def organizers(self) -> MongoOrganizers:
        return self._organizers

    @property
    def destinations(self) -> MongoDestinations:
        return self._destinations

    @classmethod
    async def connect(cls, url: str) -> MongoStore:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
        store = cls(client.get_default_database(DATABASE), client)
        await store.ensure_indexes()
        return store

    async def ensure_indexes(self) -> None:
        await self._db.sessions.create_index([("room_id", ASCENDING), ("started_at", ASCENDING)])
        await self._db.sessions.create_index([("ended_at", ASCENDING)])
        await self._db.captions.create_index([("session_id", ASCENDING), ("seq", ASCENDING)])
        await self._db.captions.create_index([("room_id", ASCENDING)])
        await self._db.rooms.create_index([("used", ASCENDING), ("created_at", ASCENDING)])
        await self._organizers.ensure_indexes()
        await self._destinations.ensure_indexes()

    async def create_room(self, room: RoomRecord) -> None:
        await self._db.rooms.insert_one(
            {
                "_id": room.id,
                "title": room.title,
                "language": room.language,
                "key_hash": room.key_hash,
                "created_at": room.created_at,
                "embed_origins": list(room.embed_origins),
                "viewer_token_hash": room.viewer_token_hash,
                "notice": room.notice,
                "recognizer": room.recognizer,
                "vocabulary": list(room.vocabulary),
                "organizer": room.organizer,
                "used": False,
            }
        )

    async def set_embed_origins(self, room_id: str, origins: tuple[str, ...]) -> None:
        await self._db.rooms.update_one({"_id": room_id}, {"$set": {"embed_origins": list(origins)}})

    async def set_vocabulary(self, room_id: str, terms: tuple[str, ...]) -> None:
        await self._db.rooms.update_one({"_id": room_id}, {"$set": {"vocabulary": list(terms)}})

    async def set_secrets(self, room_id: str, key_hash: str, viewer_token_hash: str) -> None:
        await self._db.rooms.update_one(
            {"_id": room_id}, {"$set": {"key_hash": key_hash, "viewer_token_hash": viewer_token_hash}}
        )

    async def get_room(self, room_id: str) -> RoomRecord | None:
        doc = await self._db.rooms.find_one({"_id": room_id})
        if doc is None:
            return None
        return RoomRecord(
            doc["_id"],
            doc["title"],
            doc["language"],
            doc["key_hash"],
            doc["created_at"],
            tuple(doc.get("embed_origins", ())),
            doc.get("viewer_token_hash", ""),
            doc.get("notice", ""),
            doc.get("recognizer", "local"),
            tuple(doc.get("vocabulary", ())),
            doc.get("organizer", ""),
        )

    async def room_usage(self, room_id: str) -> RoomUsage:
        sessions = await self._db.sessions.count_documents({"room_id": room_id})
        pipeline = [{"$match": {"room_id": room_id}}, {"$group": {"_id": None, "bytes": {"$sum": "$bytes"}}}]
        found = await self._db.captions.aggregate(pipeline).to_list(None)
        return RoomUsage(sessions, int(found[0]["bytes"]) if found else 0)

    async def unused_rooms(self, created_before: datetime, limit: int) -> list[str]:
        unused: list[str] = []
        candidates = self._db.rooms.find(
            {"created_at": {"$lt": created_before}, "used": {"$ne": True}}, {"_id": 1}
        ).sort("created_at", ASCENDING)
        async for doc in candidates:
            # Rooms stored before ``used`` was kept are checked once, then marked.
            if await self._db.sessions.find_one({"room_id": doc["_id"]}, {"_id": 1}) is not None:
                await self._db.rooms.update_one({"_id": doc["_id"]}, {"$set": {"used": True}})
                continue
            unused.append(doc["_id"])
            if len(unused) >= limit:
                break
        return unused

    async def delete_room(self, room_id: str) -> bool:
        result = await self._db.rooms.delete_one({"_id": room_id})
        await self._db.sessions.delete_many({"room_id": room_id})
        await self._db.captions.delete_many({"room_id": room_id})
        await self._db.destinations.delete_many({"room_id": room_id})
        return bool(result.deleted_count)

    async def expire_sessions(self, ended_before: datetime, limit: int) -> int:
        expired = self._db.sessions.find({"ended_at": {"$ne": None, "$lt": ended_before}}, {"_id": 1}).limit(
            limit
        )
        ids = [doc["_id"] async for doc in expired]
        if not ids:
            return 0
        # Captions first: a sweep cut short leaves sessions to sweep again, never captions without a session.
        await self._db.captions.delete_many({"session_id": {"$in": ids}})
        result = await self._db.sessions.delete_many({"_id": {"$in": ids}})
        return int(result.deleted_count)

    async def start_session(self, session: SessionRecord) -> None:
        marked = await self._db.rooms.update_one({"_id": session.room_id}, {"$set": {"used": True}})
        if not marked.matched_count:
            raise RoomGone(f"room {session.room_id!r} does not exist")
        await self._db.sessions.insert_one(
            {
                "_id": session.id,
                "room_id": session.room_id,
                "started_at": session.started_at,
                "ended_at": None,
                "state": session.state,
                "last_seq": session.last_seq,
                "audio_seconds": session.audio_seconds,
                "last_activity": session.last_activity,
                "settled_seq": -1,
                "settled_at": 0.0,
                "restart_at": None,
                "listen_from": 0.0,
            }
        )

    async def update_session(
        self,
        session_id: str,
        *,
        state: SessionState,
        last_seq: int,
        audio_seconds: float,
        last_activity: float,
    ) -> None:
        fields = {"state": state, "last_seq": last_seq, "audio_seconds": audio_seconds}
        await self._db.sessions.update_one(
            {"_id": session_id, "ended_at": None}, {"$set": {**fields, "last_activity": last_activity}}
        )

    async def settle_session(
        self, session_id: str, seq: int, at: float, restart: tuple[float, float] | None = None
    ) -> None:
        restart_at, listen_from = restart or (None, 0.0)
        settled = {"settled_seq": seq, "settled_at": at, "restart_at": restart_at, "listen_from": listen_from}
        await self._db.sessions.update_one(
            {"_id": session_id, "settled_seq": {"$lt": seq}}, {"$set": settled}
        )

    async def end_session(self, session_id: str, ended_at: datetime) -> None:
        await self._db.sessions.update_one(
            {"_id": session_id, "ended_at": None}, {"$set": {"ended_at": ended_at, "state": "ended"}}
        )

    async def sessions(self, room_id: str) -> list[SessionRecord]:
        cursor = self._db.sessions.find({"room_id": room_id}).sort("started_at", ASCENDING)
        return [_session(d) for d in await cursor.to_list(None)]

    async def latest_session(self, room_id: str) -> SessionRecord | None:
        cursor = self._db.sessions.find({"room_id": room_id}).sort("started_at", DESCENDING).limit(1)
        found = await cursor.to_list(None)
        return _session(found[0]) if found else None

    async def open_sessions(self) -> list[SessionRecord]:
        cursor = self._db.sessions.find({"ended_at": None}).sort("started_at", ASCENDING)
        return [_session(d) for d in await cursor.to_list(None)]

    async def append_final(self, caption: CaptionRecord) -> None:
        # A deleted room's sessions are gone: a late final must not come back as an orphan.
        if await self._db.sessions.find_one({"_id": caption.session_id}, {"_id": 1}) is None:
            raise RoomGone(f"session {caption.session_id!r} does not exist")
        # Upsert with $setOnInsert: a caption delivered twice is stored once and never overwritten.
        await self._db.captions.update_one(
            {"_id": caption.id},
            {
                "$setOnInsert": {
                    "room_id": caption.room_id,
                    "session_id": caption.session_id,
                    "seq": caption.seq,
                    "text": caption.text,
                    "bytes": len(caption.text.encode()),
                    "start": caption.start,
                    "end": caption.end,
                    "corrected": caption.corrected,
                }
            },
            upsert=True,
        )

    async def correct(self, room_id: str, caption_id: str, text: str) -> CaptionRecord | None:
        query = {"_id": caption_id, "room_id": room_id}
        await self._db.captions.update_one(
            query, {"$set": {"text": text, "bytes": len(text.encode()), "corrected": True}}
        )
        doc = await self._db.captions.find_one(query)
        return _caption(doc) if doc else None

    async def blank(self, room_id: str, caption_ids: Sequence[str]) -> None:
        if caption_ids:
            await self._db.captions.update_many(
                {"_id": {"$in": list(caption_ids)}, "room_id": room_id},
                {"$set": {"text": "", "bytes": 0, "corrected": True}},
            )

    async def captions(
        self, session_id: str, after_seq: int = -1, limit: int | None = None
    ) -> list[CaptionRecord]:
        cursor = self._db.captions.find({"session_id": session_id, "seq": {"$gt": after_seq}}).sort(
            "seq", ASCENDING
        )
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_caption(d) for d in await cursor.to_list(None)]

    async def last_captions(self, session_id: str, count: int) -> list[CaptionRecord]:
        if count <= 0:
            return []
        cursor = self._db.captions.find({"session_id": session_id}).sort("seq", DESCENDING).limit(count)
        return [_caption(d) for d in await cursor.to_list(None)][::-1]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _caption(doc: dict[str, Any]) -> CaptionRecord:
    return CaptionRecord(
        doc["_id"],
        doc["room_id"],
        doc["session_id"],
        doc["seq"],
        doc["text"],
        doc["start"],
        doc["end"],
        doc["corrected"],
    )


def _session(doc: dict[str, Any]) -> SessionRecord:
    return SessionRecord(
        id=doc["_id"],
        room_id=doc["room_id"],
        started_at=doc["started_at"],
        ended_at=doc.get("ended_at"),
        state=doc.get("state", "ended" if doc.get("ended_at") else "live"),
        last_seq=doc.get("last_seq", -1),
        audio_seconds=doc.get("audio_seconds", 0.0),
        last_activity=doc.get("last_activity", 0.0),
        settled_seq=doc.get("settled_seq", -1),
        settled_at=doc.get("settled_at", 0.0),
        restart_at=doc.get("restart_at"),
        listen_from=doc.get("listen_from", 0.0),
    )

"""Rooms and presenter keys: what may be created, and who may speak in a room."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from captions.protocol import RoomCreate
from captions.store.base import RoomRecord, Store
from captions.vocabulary.terms import clean_terms

ROOM_ID_BYTES = 9  # 12 URL-safe characters, 72 random bits: short enough for a QR code, not guessable
KEY_BYTES = 24


def new_room_id() -> str:
    return secrets.token_urlsafe(ROOM_ID_BYTES)


def new_session_id() -> str:
    return secrets.token_urlsafe(6)


def hash_key(key: str) -> str:
    # The key is 192 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(record: RoomRecord, key: str | None) -> bool:
    return key is not None and hmac.compare_digest(record.key_hash, hash_key(key))


def credential(record: RoomRecord, key: str | None, token: str | None) -> str:
    """The hash of the secret a client was let in with (empty: none was needed), to tell after a rotation
    whether it still opens the room."""
    if key is not None and key_matches(record, key):
        return record.key_hash
    if record.viewer_token_hash and token is not None:
        return hash_key(token)
    return ""


def still_opens(record: RoomRecord, credential: str, presenter: bool) -> bool:
    """Whether the secret of hash ``credential`` still lets its holder in as presenter or viewer."""
    if presenter:
        return hmac.compare_digest(record.key_hash, credential)
    if not record.viewer_token_hash:
        return True
    return credential in (record.viewer_token_hash, record.key_hash)


def may_view(record: RoomRecord, token: str | None, key: str | None = None) -> bool:
    """Anyone may view a public room; a private one needs its viewer token (or the presenter key)."""
    if not record.viewer_token_hash:
        return True
    if token is not None and hmac.compare_digest(record.viewer_token_hash, hash_key(token)):
        return True
    return key_matches(record, key)


class RoomService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, request: RoomCreate, organizer: str = "") -> tuple[RoomRecord, str, str | None]:
        """The stored room (``organizer``'s, if one created it), its presenter key and, for a private room,
        its viewer token (both returned once, only their hashes stored)."""
        key = secrets.token_urlsafe(KEY_BYTES)
        token = secrets.token_urlsafe(KEY_BYTES) if request.private else None
        record = RoomRecord(
            new_room_id(),
            request.title.strip(),
            request.language,
            hash_key(key),
            now(),
            viewer_token_hash=hash_key(token) if token else "",
            notice=" ".join((request.notice or "").split()),
            recognizer=request.recognizer or "local",
            vocabulary=clean_terms(request.vocabulary),
            organizer=organizer,
        )
        await self._store.create_room(record)
        return record, key, token

    async def rotate(
        self, record: RoomRecord, presenter_key: bool, viewer_token: bool
    ) -> tuple[str | None, str | None]:
        """New secrets for the room (each returned once, its hash stored); None where one was kept."""
        key = secrets.token_urlsafe(KEY_BYTES) if presenter_key else None
        token = secrets.token_urlsafe(KEY_BYTES) if viewer_token else None
        await self._store.set_secrets(
            record.id,
            hash_key(key) if key else record.key_hash,
            hash_key(token) if token else record.viewer_token_hash,
        )
        return key, token

    async def get(self, room_id: str) -> RoomRecord | None:
        return await self._store.get_room(room_id)


def now() -> datetime:
    return datetime.now(UTC)

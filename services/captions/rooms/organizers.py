"""Organizers: who may create rooms on a public deployment (``CAPTIONS_ROOM_CREATION=organizers``). An
organizer's token is shown once, when the operator adds them; only its hash is stored."""

from __future__ import annotations

import secrets

from captions.rooms.service import hash_key, now
from captions.store.base import OrganizerRecord, OrganizerStore

TOKEN_PREFIX = "org_"  # recognisable to a secret scanner, and in a config it was pasted into
TOKEN_BYTES = 32
MAX_NAME_CHARS = 80


class Organizers:
    def __init__(self, store: OrganizerStore) -> None:
        self._store = store

    async def add(self, name: str) -> tuple[OrganizerRecord, str]:
        """The new organizer and their token (returned this once). ValueError for a bad or taken name."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_CHARS:
            raise ValueError(f"an organizer's name has 1 to {MAX_NAME_CHARS} characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        record = OrganizerRecord(secrets.token_urlsafe(9), name, hash_key(token), now())
        await self._store.add(record)
        return record, token

    async def all(self) -> list[OrganizerRecord]:
        return await self._store.all()

    async def revoke(self, name: str) -> bool:
        return await self._store.revoke(" ".join(name.split()), now())

    async def holding(self, authorization: str | None) -> OrganizerRecord | None:
        """The organizer an ``Authorization: Bearer <token>`` header names, unless revoked; None otherwise."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        return await self._store.by_token(hash_key(token))

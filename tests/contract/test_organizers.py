"""One contract, every store's organizers: SQLite, and MongoDB through the mongomock-motor fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from captions.store.base import CaptionRecord, OrganizerRecord, RoomRecord, SessionRecord, Store
from tests.support.stores import open_test_store

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        yield opened


def organizer(number: int, name: str | None = None) -> OrganizerRecord:
    return OrganizerRecord(
        f"org-{number}", name or f"Organizer {number}", f"hash-{number}", NOW + timedelta(number)
    )


async def test_an_organizer_is_found_by_its_token_until_revoked(store: Store) -> None:
    await store.organizers.add(organizer(1))
    await store.organizers.add(organizer(2))
    assert await store.organizers.by_token("hash-1") == organizer(1)
    assert await store.organizers.by_token("hash-3") is None
    assert await store.organizers.revoke("Organizer 1", NOW) is True
    assert await store.organizers.by_token("hash-1") is None
    assert await store.organizers.revoke("Organizer 1", NOW) is False, "revoked already"
    assert await store.organizers.by_token("hash-2") == organizer(2)
    listed = await store.organizers.all()
    assert [(o.id, o.revoked_at) for o in listed] == [("org-1", NOW), ("org-2", None)]


async def test_a_name_is_held_by_one_organizer_at_a_time(store: Store) -> None:
    await store.organizers.add(organizer(1, "ACME Events"))
    with pytest.raises(ValueError, match="already"):
        await store.organizers.add(organizer(2, "ACME Events"))
    await store.organizers.revoke("ACME Events", NOW)
    await store.organizers.add(organizer(3, "ACME Events"))  # a new token under the same name
    assert (await store.organizers.by_token("hash-3") or organizer(0)).name == "ACME Events"


async def test_stored_bytes_count_the_text_of_the_organizers_rooms_only(store: Store) -> None:
    for room_id, owner in (("room-a", "org-1"), ("room-b", "org-1"), ("room-c", "org-2"), ("room-d", "")):
        await store.create_room(RoomRecord(room_id, "Talk", "en", "hash", NOW, organizer=owner))
        await store.start_session(SessionRecord(f"s-{room_id}", room_id, NOW))
        await store.append_final(CaptionRecord(f"c-{room_id}", room_id, f"s-{room_id}", 0, "Grüße", 0.0, 1.0))
    assert (await store.get_room("room-a") or RoomRecord("", "", "", "", NOW)).organizer == "org-1"
    assert await store.organizers.stored_bytes("org-1") == 2 * len("Grüße".encode())
    await store.correct("room-a", "c-room-a", "Hello there")
    assert await store.organizers.stored_bytes("org-1") == len("Grüße".encode()) + len("Hello there")
    assert await store.organizers.stored_bytes("org-3") == 0
    await store.delete_room("room-b")
    assert await store.organizers.stored_bytes("org-1") == len("Hello there")

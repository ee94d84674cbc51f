"""One contract, every store's destinations: SQLite, and MongoDB through the mongomock-motor fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from captions.store.base import DestinationRecord, RoomGone, RoomRecord, Store
from tests.support.stores import open_test_store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        await opened.create_room(RoomRecord("room-a", "Talk", "en", "hash", NOW))
        await opened.create_room(RoomRecord("room-b", "Other talk", "en", "hash", NOW))
        yield opened


def entry(room_id: str, number: int, position: int, sealed: str = "") -> DestinationRecord:
    return DestinationRecord(
        room_id, f"d{number}", position, "zoom", sealed or f"sealed-{number}", f"t{number}"
    )


async def test_a_rooms_list_is_replaced_in_its_order_and_kept_entries_keep_their_progress(
    store: Store,
) -> None:
    destinations = store.destinations
    await destinations.replace("room-a", [entry("room-a", 1, 0), entry("room-a", 2, 1)])
    await destinations.replace("room-b", [entry("room-b", 1, 0)])
    await destinations.save_progress("room-a", "d1", '{"seq": 7}')
    await destinations.save_state("room-a", "d1", "failed", "HTTP 500")
    await destinations.save_progress("room-a", "d2", '{"seq": 3}')
    await destinations.replace("room-a", [entry("room-a", 3, 0), entry("room-a", 1, 1, "resealed")])
    listed = await destinations.of_room("room-a")
    assert [(d.id, d.position, d.sealed, d.progress, d.state, d.error) for d in listed] == [
        ("d3", 0, "sealed-3", "", "ok", ""),
        ("d1", 1, "resealed", '{"seq": 7}', "ok", ""),  # saved again: tried again, from where it was
    ]
    assert [d.id for d in await destinations.of_room("room-b")] == ["d1"], "another room's list is its own"
    await destinations.save_progress("room-a", "d2", '{"seq": 4}')  # removed meanwhile: nothing comes back
    assert [d.id for d in await destinations.of_room("room-a")] == ["d3", "d1"]


async def test_destinations_go_with_their_room_and_never_outlive_it(store: Store) -> None:
    await store.destinations.replace("room-a", [entry("room-a", 1, 0)])
    await store.delete_room("room-a")
    assert await store.destinations.of_room("room-a") == []
    with pytest.raises(RoomGone):
        await store.destinations.replace("room-a", [entry("room-a", 1, 0)])
    await store.destinations.replace("room-b", [])
    assert await store.destinations.of_room("room-b") == []

"""A session's first captions do not wait for its destinations' senders to start: when every room of an event
starts at once, reading each room's list and each destination's progress was most of their first captions'
delay. The finals stored while the senders start are theirs once they run, in order, none lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from captions.bus.memory import MemoryRoomEvents
from captions.destinations.sealing import Sealer
from captions.destinations.service import RoomDestinations
from captions.settings import Settings
from captions.store.base import CaptionRecord, DestinationRecord, DestinationStore, RoomRecord, Store
from captions.store.sqlite import SqliteStore
from tests.support.fake_destinations import FakeWebhook
from tests.support.harness import until

ROOM = "room-a"
SESSION = "session-1"
SENTENCES = ["The first sentence is here.", "A second one follows it.", "And a third ends the talk."]


class ListedWhenOpened:
    """The store, with a room's list of destinations read only once ``gate`` is set (a busy database)."""

    def __init__(self, store: Store, gate: asyncio.Event) -> None:
        self._store = store
        self._gate = gate

    @property
    def destinations(self) -> DestinationStore:
        return cast(DestinationStore, GatedList(self._store.destinations, self._gate))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class GatedList:
    def __init__(self, destinations: DestinationStore, gate: asyncio.Event) -> None:
        self._destinations = destinations
        self._gate = gate

    async def of_room(self, room_id: str) -> list[DestinationRecord]:
        await self._gate.wait()
        return await self._destinations.of_room(room_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._destinations, name)


def final(seq: int) -> CaptionRecord:
    return CaptionRecord(f"c{seq}", ROOM, SESSION, seq, SENTENCES[seq], seq * 3.0, seq * 3.0 + 2.5)


async def test_a_sessions_first_captions_do_not_wait_for_its_destinations_to_start(tmp_path: Path) -> None:
    webhook = await FakeWebhook().start()
    store = await SqliteStore.open(tmp_path / "captions.db")
    settings = Settings(data_dir=tmp_path / "data", destinations_allow_private=True)
    sealer = Sealer("a test's key")
    config = {"kind": "webhook", "url": webhook.url, "secret": webhook.secret}
    await store.create_room(RoomRecord(ROOM, "Talk", "en", "hash", datetime.now(UTC)))
    await store.destinations.replace(
        ROOM, [DestinationRecord(ROOM, sealer.name(config), 0, "webhook", sealer.seal(config), "webhook")]
    )
    gate = asyncio.Event()

    async def owns(_: str) -> bool:
        return True

    destinations = RoomDestinations(
        cast(Store, ListedWhenOpened(store, gate)), MemoryRoomEvents(), sealer, settings, owns
    )
    try:
        # Were the senders started before it returns, this would wait for the gate for ever.
        await asyncio.wait_for(destinations.opened(ROOM, SESSION, 0), 10)
        destinations.final(ROOM, final(0), 0.0)
        destinations.final(ROOM, final(1), 0.0)
        gate.set()
        await until(lambda: len(webhook.received) == 2, "the finals stored while the senders started")
        destinations.final(ROOM, final(2), 0.0)
        await destinations.ended(ROOM, SESSION)
        await until(lambda: len(webhook.received) == 3, "the final after they started")
        assert [(r.seq, r.text) for r in webhook.received] == list(enumerate(SENTENCES, start=1))
    finally:
        await destinations.close()
        await store.close()
        await webhook.stop()

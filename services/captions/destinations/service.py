"""Each live room's destinations, run by the transcriber that owns the room (``CaptionSink``): one sender per
room and destination at any time, handed over with the room's lease. A destination's trouble stays its own:
its lines wait in its own bounded queue, and the room's captions never wait for it, not even for its senders
to start (reading the room's list and each one's progress, opening connections) when a session opens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from captions.bus.events import RoomEvent, RoomEvents
from captions.destinations.addresses import GuardedResolver
from captions.destinations.delivery import Delivery, DeliveryLimits, Progress
from captions.destinations.lines import Final, LineRules, Place
from captions.destinations.models import Destinations, DestinationView
from captions.destinations.obs import ObsSender
from captions.destinations.sealing import Sealer
from captions.destinations.sending import Sender
from captions.destinations.webhook import WebhookSender
from captions.destinations.youtube import YouTubeSender
from captions.destinations.zoom import ZoomSender
from captions.settings import Settings
from captions.store.base import CaptionRecord, DestinationRecord, Store

log = logging.getLogger(__name__)
# Finals of a resumed session sent on after a restart or a handover, at most (a few minutes of talk).
REPLAY_FINALS = 500
# How long a stopping server waits for lines still in flight; the rest go when it is back.
CLOSE_DRAIN_S = 3.0


@dataclass
class Starting:
    """A room's senders starting, and the finals stored meanwhile (at most REPLAY_FINALS), theirs once they
    run: in order, after whatever of the session's earlier finals they had not sent."""

    task: asyncio.Task[None]
    early: list[tuple[str, Final]]
    dropped: int = 0


class RoomDestinations:
    def __init__(
        self,
        store: Store,
        events: RoomEvents,
        sealer: Sealer,
        settings: Settings,
        owns: Callable[[str], Awaitable[bool]],
    ) -> None:
        self._store = store
        self._events = events
        self._sealer = sealer
        self._settings = settings
        self._owns = owns
        self._limits = DeliveryLimits(settings.destination_give_up_s, settings.destination_queue_lines)
        self._rooms: dict[str, dict[str, Delivery]] = {}
        self._records: dict[str, dict[str, DestinationRecord]] = {}
        self._draining: dict[str, asyncio.Task[None]] = {}
        self._starting: dict[str, Starting] = {}

    async def opened(self, room_id: str, session_id: str, stored_finals: int) -> None:
        """Returns at once: the senders start beside the session's first captions, which do not wait for
        them (when every room of an event starts at once, that wait was most of their first captions' delay)."""
        self._cancel_drain(room_id)
        await self._started(room_id)
        early: list[tuple[str, Final]] = []
        task = asyncio.create_task(self._start_room(room_id, session_id, stored_finals, early))
        self._starting[room_id] = Starting(task, early)

    async def _start_room(
        self, room_id: str, session_id: str, stored_finals: int, early: list[tuple[str, Final]]
    ) -> None:
        try:
            await self._sync(room_id, session_id, stored_finals)
        finally:
            if (starting := self._starting.get(room_id)) is not None and starting.early is early:
                del self._starting[room_id]
        for early_session, final in early:  # no await since the senders started: none came between
            self._feed(room_id, early_session, final)

    async def _started(self, room_id: str) -> None:
        """Whatever changes a room's senders waits for them to have started."""
        starting = self._starting.get(room_id)
        if starting is not None:
            await asyncio.wait([starting.task])

    def final(self, room_id: str, caption: CaptionRecord, behind_s: float) -> None:
        starting = self._starting.get(room_id)
        if not self._rooms.get(room_id) and starting is None:
            return
        final = Final(
            caption.seq,
            caption.text,
            caption.start,
            caption.end,
            time.time() - behind_s - (caption.end - caption.start),
            time.monotonic(),
        )
        if starting is None:
            self._feed(room_id, caption.session_id, final)
        elif len(starting.early) < REPLAY_FINALS:
            starting.early.append((caption.session_id, final))
        else:
            starting.dropped += 1
            if starting.dropped == 1:
                log.error(
                    "room %s: its destinations are still starting; finals since are not sent on", room_id
                )

    def _feed(self, room_id: str, session_id: str, final: Final) -> None:
        for delivery in self._rooms.get(room_id, {}).values():
            delivery.final(session_id, final)

    async def ended(self, room_id: str, session_id: str) -> None:
        await self._started(room_id)
        running = self._rooms.get(room_id)
        if not running:
            return
        for delivery in running.values():
            delivery.end_session()
        self._cancel_drain(room_id)
        self._draining[room_id] = asyncio.create_task(self._drain(room_id))

    async def released(self, room_id: str) -> None:
        await self._started(room_id)
        self._cancel_drain(room_id)
        await self._stop_room(room_id)

    async def changed(self, room_id: str, session_id: str, stored_finals: int) -> None:
        await self._started(room_id)
        await self._sync(room_id, session_id, stored_finals, retry_failed=True)

    async def close(self) -> None:
        if self._starting:
            await asyncio.wait([starting.task for starting in self._starting.values()])
        deliveries = [d for running in self._rooms.values() for d in running.values()]
        for delivery in deliveries:
            delivery.end_session()
        if deliveries:
            await asyncio.wait([asyncio.create_task(d.drained()) for d in deliveries], timeout=CLOSE_DRAIN_S)
        for delivery in deliveries:  # the server stops, nobody else sends: what was taken is written down
            with contextlib.suppress(Exception):
                await asyncio.wait_for(delivery.save_acknowledged(), 1.0)
        for room_id in list(self._rooms):
            self._cancel_drain(room_id)
            await self._stop_room(room_id)

    # --- the room's list -------------------------------------------------------------------------------

    async def _sync(
        self, room_id: str, session_id: str, stored_finals: int, retry_failed: bool = False
    ) -> None:
        """Senders for the room's list as stored: new entries start, removed ones stop, kept ones go on (and
        failed ones start again if the list was saved)."""
        try:
            await self._synced(room_id, session_id, stored_finals, retry_failed)
        except Exception:  # the talk goes on; the list is read again at the next change or session
            log.exception("room %s: could not start its destinations", room_id)

    async def _synced(self, room_id: str, session_id: str, stored_finals: int, retry_failed: bool) -> None:
        records = await self._store.destinations.of_room(room_id)
        running = self._rooms.setdefault(room_id, {})
        self._records[room_id] = {record.id: record for record in records}
        for destination_id in [d for d in running if d not in self._records[room_id]]:
            await running.pop(destination_id).stop()
        for record in records:
            if retry_failed and record.id in running and running[record.id].state == "failed":
                await running.pop(record.id).stop()
            if record.id in running:
                running[record.id].begin_session(session_id)
                continue
            delivery = await self._start(room_id, session_id, stored_finals, record)
            if delivery is not None:
                running[record.id] = delivery
        if not running:
            self._forget(room_id)
        await self._tell(room_id)

    async def _start(
        self, room_id: str, session_id: str, stored_finals: int, record: DestinationRecord
    ) -> Delivery | None:
        """A sender for ``record``, fed whatever of the session it has not sent yet: from its stored progress
        when that is of this session (a restart, a handover), else from the next final on (a destination added
        mid-talk does not get the whole talk again)."""
        sender = self._sender(room_id, record)
        if sender is None:
            return None
        progress = Progress.load(record.progress)
        replay: list[CaptionRecord] = []
        if progress.session == session_id:
            start = progress.resume_from(session_id)
            replay = await self._store.captions(session_id, start.seq - 1, REPLAY_FINALS)
        else:
            start = Place(stored_finals, 0)  # as the transcriber counted them: finals stored since are new
            # A line of an earlier session still pending goes first, under its number: nothing is skipped.
            progress = Progress(session_id, start, progress.sent, progress.pending, progress.number)
            await self._store.destinations.save_progress(room_id, record.id, progress.dump())

        async def may_send() -> bool:
            return await self._owns(room_id)

        async def tell() -> None:
            await self._tell(room_id)

        delivery = Delivery(
            room_id,
            record.id,
            sender,
            progress,
            self._store.destinations,
            self._limits,
            LineRules(),
            may_send,
            tell,
        )
        if record.state == "failed":  # it stays so until the list is saved again
            delivery.state, delivery.error = "failed", record.error
        delivery.begin_session(session_id, start)
        now, arrived = time.time(), time.monotonic()
        for caption in replay:
            delivery.final(
                session_id, Final(caption.seq, caption.text, caption.start, caption.end, now, arrived)
            )
        delivery.start()
        return delivery

    def _sender(self, room_id: str, record: DestinationRecord) -> Sender | None:
        try:
            config = self._sealer.open(record.sealed)
        except Exception:
            log.error(
                "room %s: destination %s cannot be read with this CAPTIONS_SECRETS_KEY", room_id, record.id
            )
            return None
        timeout_s = self._settings.destination_timeout_s
        if config["kind"] == "obs":
            allow = self._settings.destinations_allow_private
            return ObsSender(config["host"], config["port"], config["password"], timeout_s, allow)
        http = self._client()
        if config["kind"] == "zoom":
            return ZoomSender(http, config["url"], config["lang"], timeout_s)
        if config["kind"] == "youtube":
            return YouTubeSender(http, config["url"], timeout_s)
        return WebhookSender(http, config["url"], config["secret"], room_id, timeout_s)

    def _client(self) -> aiohttp.ClientSession:
        """Each destination its own connections: one whose host hangs holds none that another needs (Zoom's
        meetings all share one host)."""
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._settings.destinations_allow_private), limit=2, ttl_dns_cache=60
        )
        return aiohttp.ClientSession(connector=connector, trust_env=False, headers={"User-Agent": "captions"})

    async def _tell(self, room_id: str) -> None:
        """The presenter sees each destination's state as it changes."""
        running = self._rooms.get(room_id, {})
        views = [
            DestinationView(
                id=record.id,
                kind=record.kind,
                target=record.target,
                state=running[record.id].state if record.id in running else "failed",
                error=running[record.id].error if record.id in running else "its settings cannot be read",
            )
            for record in self._records.get(room_id, {}).values()
        ]
        try:
            await self._events.publish(RoomEvent(room_id, "destinations", Destinations(destinations=views)))
        except Exception:
            log.exception("room %s: could not tell its presenter of its destinations", room_id)

    # --- stopping ----------------------------------------------------------------------------------------

    async def _drain(self, room_id: str) -> None:
        """After a session ended: its last lines go (each destination within its own give-up time), then the
        senders stop until the room's next session."""
        running = list(self._rooms.get(room_id, {}).values())
        await asyncio.gather(*(delivery.drained() for delivery in running))
        self._draining.pop(room_id, None)
        await self._stop_room(room_id)

    def _cancel_drain(self, room_id: str) -> None:
        task = self._draining.pop(room_id, None)
        if task is not None:
            task.cancel()

    async def _stop_room(self, room_id: str) -> None:
        for delivery in self._rooms.get(room_id, {}).values():
            await delivery.stop()
        self._forget(room_id)

    def _forget(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)
        self._records.pop(room_id, None)

"""A talk's lifecycle: ``idle -> live <-> paused -> stopping -> ended``, one session from the first frame (or
Start) to Stop, across presenter reconnects, gateway and server restarts and pauses of any length.

The session lives in the shared room state (the store in one process, Redis in scale-out), so whichever
gateway the presenter (re)connects to continues it. It ends on Stop, on room deletion, or when no presenter has
been connected for ``presenter_timeout_s``; it is ``ended`` only once the transcriber has stored its last final.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from captions.bus.events import RoomDeleted, RoomEvent, RoomEvents, SecretsRotated
from captions.bus.inputs import InputKind, InputsBacklogged, InputsUnavailable, RoomInput, RoomInputs
from captions.gateway import stalls
from captions.gateway.guard import ClientError
from captions.gateway.live import LiveRoom, LiveRooms
from captions.gateway.quotas import Quotas
from captions.gateway.slots import Slots
from captions.gateway.statuses import RoomStatuses
from captions.limits.base import Budget, Limiter
from captions.metrics import Metrics
from captions.protocol import Caption, parse_caption_id
from captions.rooms.service import new_session_id, now
from captions.roomstate.base import LiveSession, RoomState
from captions.settings import Settings
from captions.store.base import SessionRecord, Store

log = logging.getLogger(__name__)
EXPIRY_BATCH = 200  # open sessions looked at per sweep at most
SESSION_SAVE_INTERVAL_S = 1.0
RESEND_WAIT_S = 30.0  # the presenter's app keeps this much audio to send again


class Sessions:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        state: RoomState,
        inputs: RoomInputs,
        events: RoomEvents,
        metrics: Metrics,
        live_rooms: LiveRooms,
        limiter: Limiter,
    ) -> None:
        self._settings = settings
        self._store = store
        self._state = state
        self._inputs = inputs
        self._events = events
        self._metrics = metrics
        self.rooms = live_rooms.rooms
        self.slots = Slots(settings, state, inputs, limiter)
        self.quotas = Quotas(settings, limiter, store)
        self.statuses = RoomStatuses(settings, state, events, self.rooms, self.spawn)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- what is true now --------------------------------------------------------------------------------

    async def shared(self, room_id: str) -> LiveSession:
        """The shared session (it may have moved here from another gateway, or a restarted server)."""
        session = await self._state.session(room_id)
        if session.state == "stopping" and session.session_id:
            # Every gateway was away when the transcriber ended it: the store knows.
            record = await self._store.latest_session(room_id)
            if record is not None and record.id == session.session_id and record.ended_at:
                await self._state.end_session(room_id, record.id)
                session.state = "ended"
        return session

    # --- what the presenter does ------------------------------------------------------------------------

    async def begin(self, live: LiveRoom) -> None:
        """Start a session, or resume a paused one."""
        stalls.quiet(live)
        session = live.session
        session.last_activity = time.time()
        if session.parked:  # it gave its slot back: the same session takes one again
            session.held_by = await self.slots.take(live)
            session.parked, session.state, session.paused_at = False, "live", 0.0
            await self._send(live, "start")  # the transcriber opens it again where it stopped
        elif session.state == "paused":
            session.state, session.paused_at = "live", 0.0
        elif session.state != "live":
            await self.quotas.may_start(live)
            held_by = await self.slots.take(live)
            session_id = new_session_id()
            live.session = session = LiveSession(session_id, "live", held_by=held_by)
            live.finals = 0
            await self._store.start_session(
                SessionRecord(session_id, live.room_id, now(), last_activity=session.last_activity)
            )
            await self._send(live, "start")
        else:
            return
        await self._state.save_session(live.room_id, session)
        await self.statuses.broadcast(live)
        self.slots.watch(live)

    async def frame(self, live: LiveRoom, seq: int, pcm: bytes, budget: Budget) -> float:
        """One audio frame of ``budget.amount`` seconds, if the room's audio budget covers it (0; else the
        seconds until it would). Frames the session already has (resent after a reconnect) are dropped. Frames
        go to the room's input one at a time, in order: a frame waiting out a bus outage holds the next."""
        if stalls.heard(live):  # heard before it waits its turn: a presenter held up by the bus is not away
            log.info("room %s: the presenter's audio comes again", live.room_id)
            await self.share_presence(live)
            await self.statuses.broadcast(live)
        async with live.sending:
            return await self._frame(live, seq, pcm, budget)

    async def _frame(self, live: LiveRoom, seq: int, pcm: bytes, budget: Budget) -> float:
        if live.session.state != "live" or live.session.parked:
            await self.begin(live)
        session = live.session
        if seq <= session.last_seq:
            return 0.0
        self.quotas.within_session(live)
        self._in_order(live, seq)
        await self.quotas.audio(live, budget.amount)
        try:
            wait = await self._inputs.send_within(_input(live, "audio", seq=seq, pcm=pcm), budget)
        except InputsUnavailable as error:
            backlogged = isinstance(error, InputsBacklogged)
            if live.resend_from is None:  # once a refusal, not once per frame the presenter sends again
                log.warning("room %s: could not queue frame %d (%s); the presenter is asked to send it again",
                            live.room_id, seq, "its transcriber is behind" if backlogged else "the bus is down")  # fmt: skip
            live.resend_from, live.resend_asked_at = seq, time.monotonic()
            why = (
                "the room's transcription is too far behind"
                if backlogged
                else "the server could not queue it"
            )
            raise _resend(seq, why) from None
        live.resend_from = None
        if wait:
            return wait
        session.last_seq = seq
        session.audio_seconds += budget.amount
        session.last_activity = time.time()
        self._metrics.audio_seconds.inc(budget.amount)
        # Not per frame: a presenter that moves to another gateway after a crash resends up to this much audio,
        # and the transcriber drops the frames it already has by their numbers.
        moment = time.monotonic()
        if moment - live.session_saved_at >= SESSION_SAVE_INTERVAL_S:
            live.session_saved_at = moment
            await self._save_progress(live)
        return 0.0

    @staticmethod
    def _in_order(live: LiveRoom, seq: int) -> None:
        """After a frame the bus could not take, only that frame goes on (a later one would leave a gap that
        nothing fills), until the presenter's app could not have it any more (it keeps 30 s)."""
        if live.resend_from is None or seq == live.resend_from:
            return
        if time.monotonic() - live.resend_asked_at > RESEND_WAIT_S:
            log.warning("room %s: frames from %d never came again; the talk goes on without them", live.room_id,
                        live.resend_from)  # fmt: skip
            live.resend_from = None
            return
        raise _resend(live.resend_from)

    async def _save_progress(self, live: LiveRoom) -> None:
        """The session's progress, saved during audio. The frame is queued already: a store (or Redis) that
        refuses the write for a while must not refuse the frame; the next save, a pause or Stop writes it."""
        try:
            await self._state.save_session(live.room_id, live.session)
        except Exception as error:
            if not live.progress_unsaved:
                log.warning("room %s: could not save the session's progress (%s); audio goes on", live.room_id,
                            type(error).__name__)  # fmt: skip
            live.progress_unsaved = True
            return
        if live.progress_unsaved:
            log.info("room %s: the session's progress is saved again", live.room_id)
            live.progress_unsaved = False

    async def text(self, live: LiveRoom, text: str, final: bool) -> None:
        if live.session.state != "live" or live.session.parked:
            await self.begin(live)
        session = live.session
        if final:
            self.quotas.within_session(live)
        session.last_activity = time.time()
        # Browser recognition has no audio clock: its captions are timed by the wall clock of the session.
        at = max(session.audio_seconds, session.last_activity - session.started_at)
        await self._send(live, "text", text=text, final=final, at=at)
        await self._state.save_session(live.room_id, session)

    async def pause(self, live: LiveRoom) -> None:
        async with live.sending:  # after the frames sent before it
            await self._pause(live)

    async def _pause(self, live: LiveRoom) -> None:
        live.short_frame_sent = False
        stalls.quiet(live)
        if live.session.state == "live":
            live.session.state = "paused"
            live.session.last_activity = live.session.paused_at = time.time()
            await self._send(live, "pause")
            await self._state.save_session(live.room_id, live.session)
            await self.statuses.broadcast(live)
            self.slots.watch(live)

    async def stop(self, live: LiveRoom) -> None:
        """Stopping, after the frames sent before it: the transcriber settles the last words, then says the
        session ended."""
        async with live.sending:
            await self._stop(live)

    async def _stop(self, live: LiveRoom) -> None:
        live.short_frame_sent = False
        stalls.quiet(live)
        if live.session.state in ("live", "paused"):
            live.session.state = "stopping"
            await self.slots.give_back(live.room_id, live.session)
            await self._send(live, "stop")
            await self._state.save_session(live.room_id, live.session)
            await self.statuses.broadcast(live)

    async def vocabulary(self, live: LiveRoom, terms: tuple[str, ...]) -> None:
        """The room's terms changed: a session in progress takes them from its next decode."""
        if live.session.state in ("live", "paused"):
            await self._send(live, "vocabulary", text="\n".join(terms))

    async def presenter_came_or_went(self, live: LiveRoom) -> None:
        """The presenter's absence timeout counts from its last (dis)connection."""
        stalls.quiet(live)
        if live.session.open:
            live.session.last_activity = time.time()
            await self._state.save_session(live.room_id, live.session)
        await self.share_presence(live)

    async def share_presence(self, live: LiveRoom) -> None:
        connected = live.leads and not live.audio_stalled
        await self._state.set_presence(live.room_id, connected, len(live.viewers))

    async def notice_stalls(self) -> None:
        """Presenters here whose audio stopped mid-talk: their audiences are told they are away."""
        for live in stalls.newly_stalled(list(self.rooms.values()), self._settings.presenter_stall_s):
            log.info("room %s: no audio from its presenter for %.1f s mid-talk", live.room_id,
                     self._settings.presenter_stall_s)  # fmt: skip
            await self.share_presence(live)
            await self.statuses.broadcast(live)

    # --- what the transcriber and time do ---------------------------------------------------------------

    @staticmethod
    def counted(live: LiveRoom, caption: Caption) -> None:
        """A caption came by: the session's finals so far (its ids number them) for the session's quota."""
        numbered = parse_caption_id(caption.id) if caption.kind == "final" else None
        if numbered is not None and numbered[0] == live.session.session_id:
            live.finals = max(live.finals, numbered[1] + 1)

    async def ended(self, room_id: str, session_id: str) -> LiveRoom | None:
        """The transcriber stored the session's last final: the session is ended everywhere."""
        await self._state.end_session(room_id, session_id)
        live = self.rooms.get(room_id)
        if live is None:
            return None
        if live.session.session_id != session_id:
            return None  # a newer session started meanwhile
        live.session.state = "ended"
        return live

    async def expire_absent(self) -> None:
        """End sessions whose presenter has been gone longer than ``presenter_timeout_s``. Only the sessions
        due for a look, each looked at by one gateway: this costs nothing per open session."""
        timeout = self._settings.presenter_timeout_s
        for room_id in await self._state.due_rooms(EXPIRY_BATCH):
            live = self.rooms.get(room_id)
            if live is not None and live.leads:
                await self._state.recheck(room_id, time.time() + timeout)
                continue
            session = await self.shared(room_id)  # one stopping while every gateway was away may end here
            if session.state not in ("live", "paused"):
                continue  # ended; or stopping, due again in RECHECK_S
            if (await self._state.presence(room_id)).presenter_connected:
                await self._state.recheck(room_id, time.time() + timeout)
                continue
            if session.last_activity + timeout > time.time():
                await self._state.recheck(room_id, session.last_activity + timeout)
                continue
            log.info("room %s: no presenter since %.0f s, ending session %s", room_id,
                     time.time() - session.last_activity, session.session_id)  # fmt: skip
            target = live or LiveRoom(room_id, await self._language(room_id))
            target.session = session
            await self.stop(target)

    async def recover(self) -> None:
        """One process, starting: the room input of the last process died with it. Each open session goes on
        from its last settled frame (the presenter resends from there), and a stop in flight is sent again."""
        for record in await self._store.open_sessions():
            live = LiveRoom(record.room_id, await self._language(record.room_id))
            live.session = session = await self.shared(record.room_id)
            if session.session_id != record.id:
                continue
            await self._inputs.admit(record.room_id)  # it counts against max_rooms again
            if session.state == "stopping":
                await self._send(live, "stop")
            elif session.last_seq > record.settled_seq:
                log.info("room %s: session %s resumes after frame %d (%.1f s)", record.room_id, record.id,
                         record.settled_seq, record.settled_at)  # fmt: skip
                session.last_seq, session.audio_seconds = record.settled_seq, record.settled_at
                await self._state.save_session(record.room_id, session)

    async def delete_room(self, room_id: str) -> None:
        """After the store dropped it: every gateway disconnects its clients, transcribers drop it."""
        shared = await self._state.session(room_id)
        await self.slots.give_back(room_id, shared)
        session = shared.session_id or ""
        # Forgotten first: from then on input in flight for the room is dropped, not kept after its owner let
        # the room's input go.
        await self._state.forget(room_id)
        await self._events.publish(RoomEvent(room_id, "deleted", RoomDeleted(room=room_id)))
        await self._inputs.send_input(RoomInput(room_id, session, "delete"))

    async def destinations_changed(self, room_id: str) -> None:
        """After the store took the room's new list: a session in progress sends to it from now on."""
        shared = await self._state.session(room_id)
        if shared.open and shared.session_id and not shared.parked:  # a parked one reads it when it goes on
            await self._inputs.send_input(RoomInput(room_id, shared.session_id, "destinations"))

    async def rotated(self, room_id: str) -> None:
        """After the store took the room's new secrets: every gateway lets go of clients holding old ones."""
        await self._events.publish(RoomEvent(room_id, "rotated", SecretsRotated(room=room_id)))

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        await self.slots.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _language(self, room_id: str) -> str:
        record = await self._store.get_room(room_id)
        return record.language if record else "en"

    async def _send(self, live: LiveRoom, kind: InputKind, **fields: Any) -> None:
        await self._inputs.send_input(_input(live, kind, **fields))


def _resend(seq: int, why: str = "the frames before it come first") -> ClientError:
    return ClientError("resend", f"frame {seq} was not taken ({why}): send the audio again from it shortly",
                       counts=False, resume_seq=seq)  # fmt: skip


def _input(live: LiveRoom, kind: InputKind, **fields: Any) -> RoomInput:
    """Input of the room's open session, at its session time unless ``fields`` say otherwise."""
    session = live.session
    assert session.session_id is not None
    fields.setdefault("at", session.audio_seconds)
    return RoomInput(live.room_id, session.session_id, kind, language=live.language, **fields)

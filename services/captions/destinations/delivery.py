"""One room's captions to one destination: in order, each line once, through failures and restarts.

Before a line is first sent, it is written down with its number (``Progress.pending``): whoever sends next (this
process after a retry, another after a restart or a handover) sends that same line with that same number, or,
where the destination keeps its own count (Zoom), skips it if it was taken. So nothing is sent twice under a
new number, and nothing is skipped."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import TypeAdapter

from captions.destinations.lines import Final, Line, LineAssembler, LineRules, Place
from captions.destinations.models import DestinationState
from captions.destinations.sending import DeliveryFailed, NotLive, Sender
from captions.store.base import DestinationStore

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0
ACK_SAVE_S = 5.0


@dataclass
class Progress:
    """How far a destination has the talk: ``session``'s words before ``after``, its caption ``sent`` last
    accepted, and the line tried and not known to be taken (``pending``, with its ``number``)."""

    session: str = ""
    after: Place = field(default_factory=lambda: Place(0, 0))
    sent: int = 0
    pending: Line | None = None
    number: int = 0

    def resume_from(self, session_id: str) -> Place:
        """Where the words still to send begin, in ``session_id``."""
        if self.session != session_id:
            return Place(0, 0)
        if self.pending is not None and self.pending.session_id == session_id:
            return self.pending.after
        return self.after

    def dump(self) -> str:
        return _PROGRESS.dump_json(self).decode()

    @classmethod
    def load(cls, stored: str) -> Progress:
        return _PROGRESS.validate_json(stored) if stored else cls()


# Progress as it is stored: its fields, Line's and Place's, as JSON.
_PROGRESS = TypeAdapter(Progress)


@dataclass(frozen=True)
class DeliveryLimits:
    give_up_s: float
    queue_lines: int


class GaveUp(Exception):
    pass


class Delivery:
    def __init__(
        self,
        room_id: str,
        destination_id: str,
        sender: Sender,
        progress: Progress,
        store: DestinationStore,
        limits: DeliveryLimits,
        rules: LineRules,
        may_send: Callable[[], Awaitable[bool]],
        on_state: Callable[[], Awaitable[None]],
    ) -> None:
        self.room_id = room_id
        self.id = destination_id
        self.state: DestinationState = "ok"
        self.error = ""
        self._sender = sender
        self._progress = progress
        self._store = store
        self._limits = limits
        self._rules = rules
        self._may_send = may_send
        self._on_state = on_state
        self._queue: deque[Line] = deque()
        self._assembler: LineAssembler | None = None
        self._fed = Place(0, 0)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._failing_since: float | None = None
        self._tries = 0
        self._task: asyncio.Task[None] | None = None
        self._unsaved = False  # the last line taken is not written down yet
        self._acked_at = 0.0
        self._overflowed: asyncio.Future[None] | None = None

    # --- fed by the room's transcriber ----------------------------------------------------------------------

    def begin_session(self, session_id: str, start: Place | None = None) -> None:
        """Words of ``session_id`` from ``start`` on are this destination's (default: where it left off)."""
        if self._assembler is not None and self._assembler.session_id == session_id:
            return
        self._end_lines()
        self._assembler = LineAssembler(session_id, self._rules)
        self._fed = start if start is not None else self._progress.resume_from(session_id)
        if self._progress.session != session_id and self._progress.pending is None:
            self._progress.session, self._progress.after = session_id, self._fed

    def final(self, session_id: str, final: Final) -> None:
        """A final of the session: its words not sent yet become lines."""
        self.begin_session(session_id)
        assert self._assembler is not None
        if self.state == "failed" or final.seq < self._fed.seq:
            return
        skip = self._fed.word if final.seq == self._fed.seq else 0
        self._fed = Place(final.seq, max(skip, len(final.text.split())))
        self._queue_lines(self._assembler.add(final, skip))

    def end_session(self) -> None:
        """The talk stopped (or paused for long): its last words go as they are."""
        self._end_lines()
        self._wake.set()

    # --- running ----------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def drained(self) -> None:
        """Every line so far has been delivered (or the destination was given up on)."""
        await self._idle.wait()

    async def stop(self) -> None:
        """At once: whatever is unsent stays for the next sender (its progress is stored)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._sender.close()

    async def _run(self) -> None:
        if self.state == "failed":
            self._idle.set()
            return
        try:
            await self._reconcile()
            while True:
                line = await self._next_line()
                if not await self._retrying(self._still_ours):
                    log.info(
                        "room %s moved to another transcriber: its destinations go with it", self.room_id
                    )
                    break
                await self._deliver(line)
        except GaveUp:
            self._queue.clear()
        self._idle.set()

    async def _still_ours(self) -> bool:
        """Before each line: one sender per room and destination, the transcriber that owns the room."""
        try:
            return await self._may_send()
        except Exception as error:  # Redis away past its retry window: the line waits, as after a failed send
            raise DeliveryFailed("the room's owner could not be checked") from error

    async def _reconcile(self) -> None:
        """A sender that (re)starts: the line written down as pending goes first, with its number, unless the
        destination says it took it."""
        last = await self._retrying(self._sender.last_accepted)
        progress = self._progress
        if last is not None:
            if progress.pending is not None and last >= progress.number:
                if progress.pending.session_id == progress.session:
                    progress.after = progress.pending.after
                progress.pending = None
            progress.sent = max(progress.sent, last)
        if progress.pending is not None:
            self._queue.appendleft(progress.pending)

    async def _next_line(self) -> Line:
        while not self._queue:
            due = self._assembler.due_at() if self._assembler is not None else None
            if due is None and not self._unsaved:
                self._idle.set()
            if self._unsaved:
                due = min(due or float("inf"), self._acked_at + ACK_SAVE_S)
            self._wake.clear()
            if due is None:
                await self._wake.wait()
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, due - time.monotonic()))
            except TimeoutError:
                if (
                    self._assembler is not None
                    and (self._assembler.due_at() or float("inf")) <= time.monotonic()
                ):
                    self._queue.extend(self._assembler.flush())
                if not self._queue and self._unsaved and time.monotonic() >= self._acked_at + ACK_SAVE_S:
                    await self.save_acknowledged()
        self._idle.clear()
        return self._queue[0]

    async def save_acknowledged(self) -> None:
        """Write down the last line taken, if the next line's own write has not (a quiet destination)."""
        if self._unsaved:
            await self._retrying(self._save)
            self._unsaved = False

    async def _deliver(self, line: Line) -> None:
        progress = self._progress
        if progress.pending is None or progress.pending.id != line.id:
            progress.pending, progress.number = line, progress.sent + 1
            await self._retrying(self._save)  # the last line taken is written down with it
            self._unsaved = False
        number = progress.number
        tries = 0

        async def send() -> str:
            nonlocal tries
            tries += 1
            if tries > 1:  # the last try's answer may have been lost after the destination took the line
                last = await self._sender.last_accepted()
                if last is not None and last >= number:
                    return ""
            try:
                await self._sender.send(line, number)
            except NotLive as notice:
                return notice.reason
            return ""

        notice = await self._retrying(send)
        progress.sent, progress.pending = number, None
        if line.session_id == progress.session:  # a line left over from an earlier session moves nothing on
            progress.after = line.after
        self._queue.popleft()
        # Written with the next line, or after ACK_SAVE_S of quiet: one write per line, not two. Lost in a
        # crash, the line is sent again under its number (Zoom says it has it; YouTube and webhooks keep one).
        self._unsaved, self._acked_at = True, time.monotonic()
        await self._set_state("ok", notice)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt`` until it works, with back-off; past ``give_up_s`` of failures the destination fails."""
        while True:
            try:
                result = await attempt()
            except DeliveryFailed as failure:
                now = time.monotonic()
                self._failing_since = self._failing_since or now
                if now - self._failing_since >= self._limits.give_up_s:
                    await self._set_state("failed", failure.reason)
                    raise GaveUp from failure
                await self._set_state("retrying", failure.reason)
                delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**self._tries)
                self._tries += 1
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                continue
            self._failing_since, self._tries = None, 0
            return result

    def _queue_lines(self, lines: list[Line]) -> None:
        if not lines:
            if self._assembler is not None and self._assembler.due_at() is not None:
                self._idle.clear()
                self._wake.set()
            return
        self._queue.extend(lines)
        self._idle.clear()
        self._wake.set()
        if len(self._queue) > self._limits.queue_lines and self._task is not None:
            self._task.cancel()
            self._queue.clear()
            self._idle.set()
            self._overflowed = asyncio.ensure_future(
                self._set_state("failed", "it fell too far behind the talk")
            )

    def _end_lines(self) -> None:
        if self._assembler is not None:
            self._queue_lines(self._assembler.flush())

    async def _set_state(self, state: DestinationState, error: str) -> None:
        if (state, error) == (self.state, self.error):
            return
        self.state, self.error = state, error
        if state != "ok":
            log.warning("room %s: destination %s %s: %s", self.room_id, self.id, state, error)
        try:
            await self._store.save_state(self.room_id, self.id, state, error)
        except Exception:  # the presenter still hears of it; the stored state catches up on the next change
            log.exception("room %s: could not store destination %s's state", self.room_id, self.id)
        await self._on_state()

    async def _save(self) -> None:
        try:
            await self._store.save_progress(self.room_id, self.id, self._progress.dump())
        except Exception as error:  # not sent before it is written down: tried again like a failed send
            log.exception("room %s: could not store destination %s's progress", self.room_id, self.id)
            raise DeliveryFailed("its progress could not be stored") from error

"""What a client is sent when it (re)joins a room: the status, the captions it missed, then what arrived
meanwhile, each caption once and in order.

A client that names the last caption it saw (``last_id``) of the room's current session gets what came after
it; anyone else gets the session's last ``catchup_finals``. Both are read from the store in bounded pages, so a
long talk is never loaded whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from captions.gateway.live import LiveRoom
from captions.protocol import Caption, Status, parse_caption_id
from captions.store.base import CaptionRecord, Store

PAGE = 200
Emit = Callable[[str, dict[str, Any], str], Awaitable[None]]


class Catchup:
    def __init__(self, store: Store, emit: Emit, catchup_finals: int) -> None:
        self._store = store
        self._emit = emit
        self._catchup_finals = catchup_finals

    def expect(self, live: LiveRoom, sid: str) -> None:
        """From now on the room's live captions wait for this client until its catch-up is sent."""
        live.catching_up[sid] = []

    async def welcome(self, sid: str, live: LiveRoom, status: Status, last_id: str | None) -> None:
        sent: set[str] = set()
        try:
            await self._emit("status", status.model_dump(), sid)
            if sid in live.catching_up:
                async for record in self._missed(live, last_id):
                    caption = to_caption(record)
                    sent.add(caption.id)
                    await self._emit("caption", caption.model_dump(), sid)
        finally:
            for caption in live.catching_up.pop(sid, []):
                if caption.kind != "final" or caption.id not in sent:
                    await self._emit("caption", caption.model_dump(), sid)

    async def _missed(self, live: LiveRoom, last_id: str | None) -> AsyncIterator[CaptionRecord]:
        current = live.session.session_id
        if current is None:
            return
        seen = parse_caption_id(last_id) if last_id else None
        if seen is None or seen[0] != current:
            # A first join, or a last_id of another session (or room): the usual start.
            for record in await self._store.last_captions(current, self._catchup_finals):
                yield record
            return
        after = seen[1]
        while True:
            page = await self._store.captions(current, after_seq=after, limit=PAGE)
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            after = page[-1].seq


def to_caption(record: CaptionRecord) -> Caption:
    return Caption(
        id=record.id,
        kind="final",
        text=record.text,
        start=record.start,
        end=record.end,
        session_id=record.session_id,
    )

"""A room's vocabulary as its presenter changes it, and as their corrections teach it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from captions.gateway.live import LiveRoom
from captions.gateway.sessions import Sessions
from captions.protocol import Vocabulary
from captions.store.base import Store
from captions.vocabulary.terms import clean_terms, learned_terms

EmitTo = Callable[[str, dict[str, Any], str], Awaitable[None]]


class RoomVocabulary:
    def __init__(self, store: Store, sessions: Sessions, emit_to: EmitTo) -> None:
        self._store = store
        self._sessions = sessions
        self._emit_to = emit_to

    async def learn(self, presenter: str, live: LiveRoom, heard: str, corrected: str) -> None:
        """Words of a correction the recogniser got wrong, and that are not common words, join the vocabulary
        (while it has room)."""
        record = await self._store.get_room(live.room_id)
        if record is None:
            return
        learned = learned_terms(heard, corrected, record.vocabulary)
        terms = clean_terms([*record.vocabulary, *learned])
        learned = [term for term in learned if term in terms]
        if learned:
            await self.replace(presenter, live, terms, learned)

    async def replace(
        self, presenter: str, live: LiveRoom, terms: tuple[str, ...], learned: list[str] | None = None
    ) -> None:
        """Stored, given to a session in progress, and told to the presenter (with what was just learned)."""
        await self._store.set_vocabulary(live.room_id, terms)
        if live.record is not None:
            live.record = replace(live.record, vocabulary=terms)
        await self._sessions.vocabulary(live, terms)
        told = Vocabulary(terms=list(terms), learned=learned or [])
        await self._emit_to("vocabulary", told.model_dump(), presenter)

    async def tell(self, presenter: str, room_id: str) -> None:
        """A presenter joining learns the room's terms (read afresh: another gateway may have changed them)."""
        record = await self._store.get_room(room_id)
        if record is not None:
            await self._emit_to(
                "vocabulary", Vocabulary(terms=list(record.vocabulary)).model_dump(), presenter
            )

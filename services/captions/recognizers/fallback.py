"""A cloud stream with the local model behind it: when the service fails mid-talk, the talk carries on.

The audio the service has not finalised yet is kept (bounded); on failure a local stream resumes at its start,
after the last final the service gave (words ending before it are not said again), so the transcript has no gap
and no duplicate. The presenter is told why, through ``on_fallback``. The switch is for this session only: the
next one tries the service again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.base import RecognizerFailed, RecognizerStream, Resume, StreamOptions
from captions.recognizers.cloud import check_pcm
from captions.recognizers.events import CaptionEvent

log = logging.getLogger(__name__)

# Audio kept for the local model to redo at most: what a service leaves unfinalised is seconds, not minutes.
REPLAY_LIMIT_S = 30.0
# Finals given to the local model as its prompt (the talk's preceding text).
PROMPT_FINALS = 5


class FallbackStream:
    def __init__(
        self,
        primary: RecognizerStream,
        open_local: Callable[[StreamOptions], RecognizerStream] | None,
        options: StreamOptions,
        on_fallback: Callable[[str], Awaitable[None]],
    ) -> None:
        self._active = primary
        self._open_local = open_local
        self._options = options
        self._vocabulary = tuple(options.vocabulary)
        self._on_fallback = on_fallback
        self._fell_back = False
        self._replay: deque[tuple[float, bytes]] = deque()  # (session time, PCM) not final yet
        self._replayed_samples = 0
        self._position = options.resume.at
        self._committed_end = options.resume.committed_end
        self._recent: deque[str] = deque(
            [options.resume.prompt] if options.resume.prompt else [], PROMPT_FINALS
        )
        self._finishing = False
        # Held while feeding: the audio the local model redoes goes in before any that arrives meanwhile.
        self._lock = asyncio.Lock()

    @property
    def lag_seconds(self) -> float:
        return self._active.lag_seconds

    @property
    def busy_seconds(self) -> float:
        return self._active.busy_seconds

    async def feed(self, frame: bytes) -> None:
        check_pcm(frame)
        if not frame:
            return
        async with self._lock:
            if not self._fell_back:
                self._keep(frame)
            self._position += len(frame) / BYTES_PER_SAMPLE / SAMPLE_RATE
            with contextlib.suppress(RecognizerFailed):  # its events() says so; the switch happens there
                await self._active.feed(frame)

    async def flush(self) -> None:
        async with self._lock:
            await self._active.flush()

    async def finish(self) -> None:
        async with self._lock:
            self._finishing = True
            active = self._active
        await active.finish()

    def abandon(self) -> None:
        self._active.abandon()

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        self._vocabulary = tuple(terms)
        self._active.set_vocabulary(terms)

    async def events(self) -> AsyncIterator[CaptionEvent]:
        try:
            async for event in self._active.events():
                self._note(event)
                yield event
            return
        except RecognizerFailed as failure:
            reason = failure.reason
        if self._open_local is None:
            log.warning(
                "cloud recogniser failed (%s); the local model does not speak the room's language", reason
            )
            self._active.abandon()
            await self._on_fallback(f"{reason}; this server's model does not transcribe the room's language, "
                                    "so captions stop until a new session reaches the service")  # fmt: skip
            return
        log.warning("cloud recogniser failed (%s): the local model carries the talk on", reason)
        local = await self._switch(self._open_local)
        await self._on_fallback(reason)
        async for event in local.events():
            yield event

    def _keep(self, frame: bytes) -> None:
        self._replay.append((self._position, frame))
        self._replayed_samples += len(frame) // BYTES_PER_SAMPLE
        while self._replay and self._replayed_samples / SAMPLE_RATE > REPLAY_LIMIT_S:
            _, dropped = self._replay.popleft()
            self._replayed_samples -= len(dropped) // BYTES_PER_SAMPLE

    def _note(self, event: CaptionEvent) -> None:
        if event.kind == "final":
            self._committed_end = max(self._committed_end, event.end)
            self._recent.append(event.text)
        # Audio the service has settled will never be needed again.
        while self._replay and self._replay[0][0] + len(
            self._replay[0][1]
        ) / BYTES_PER_SAMPLE / SAMPLE_RATE <= (event.settled):
            _, dropped = self._replay.popleft()
            self._replayed_samples -= len(dropped) // BYTES_PER_SAMPLE

    async def _switch(self, open_local: Callable[[StreamOptions], RecognizerStream]) -> RecognizerStream:
        async with self._lock:
            self._fell_back = True
            self._active.abandon()
            start = self._replay[0][0] if self._replay else self._position
            resume = Resume(start, self._committed_end, " ".join(self._recent))
            local = open_local(StreamOptions(self._options.language, self._vocabulary, resume))
            while self._replay:
                await local.feed(self._replay.popleft()[1])
            self._replayed_samples = 0
            self._active = local
            if self._finishing:
                await local.finish()
        return local

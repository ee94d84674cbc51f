"""An async stream over a StreamingRecognizer: frames in as they arrive, caption events out.

Frames are queued and processed in order by one task per stream, inference in the engine's thread pool. With
``coalesce`` (live use) the task takes every frame that arrived while it was busy in one go, so a stream that
falls behind catches up instead of queueing decodes. Without it, frames are processed one by one: the decode
points depend only on the frames fed, which makes runs repeatable (simulation, tests).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

import numpy as np

from captions.asr.scheduler import DecodeScheduler
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, pcm16_to_float32
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent

# Without captions (silence), a stream marks its settled point after this much more audio is done.
SETTLE_MARK_S = 1.0
# Frames (or coalesced batches) waiting in a live stream at most (minutes of audio); past it ``feed`` waits,
# which holds the room's input back where it is bounded (Redis stream, presenter's resend buffer).
MAX_QUEUED_FRAMES = 2_000


class _Flush:
    """Queue marker: settle what was heard so far, keep the stream open."""


_END = None
_FLUSH = _Flush()


class RecognizerSession:
    def __init__(
        self,
        recognizer: StreamingRecognizer,
        scheduler: DecodeScheduler,
        *,
        coalesce: bool = True,
        settle_marks: bool = False,
    ) -> None:
        self._recognizer = recognizer
        self._scheduler = scheduler
        self._coalesce = coalesce
        # A live room's transcriber must learn that silence is settled too, or nothing could be let go of.
        self._settle_marks = settle_marks
        self._marked = 0.0
        self._frames: asyncio.Queue[Audio | _Flush | None] = asyncio.Queue(
            maxsize=MAX_QUEUED_FRAMES if coalesce else 4
        )
        self._events: asyncio.Queue[CaptionEvent | None] = asyncio.Queue()
        self._closed = False
        self.busy_seconds = 0.0  # time spent recognising, for the real-time factor
        self._unprocessed = 0  # samples fed but not recognised yet
        self._worker = asyncio.create_task(self._work())

    async def feed(self, frame: bytes) -> None:
        """Queue PCM16LE mono 16 kHz bytes; raises AudioFormatError for bytes that are not whole samples."""
        await self.feed_audio(pcm16_to_float32(frame))

    async def feed_audio(self, audio: Audio) -> None:
        if self._closed:
            raise RuntimeError("stream is finished")
        if len(audio):
            self._unprocessed += len(audio)
            await self._frames.put(audio)

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        self._recognizer.set_vocabulary(terms)

    @property
    def lag_seconds(self) -> float:
        """Audio waiting to be recognised: how far behind real time this stream is."""
        return self._unprocessed / SAMPLE_RATE

    async def flush(self) -> None:
        """Make everything heard so far final (a pause), and go on taking audio."""
        if not self._closed:
            await self._frames.put(_FLUSH)

    async def finish(self) -> None:
        """No more audio: everything heard becomes final, then ``events()`` ends."""
        if not self._closed:
            self._closed = True
            await self._frames.put(_END)
        await asyncio.shield(self._worker)

    def abandon(self) -> None:
        """Stop without settling anything: the stream goes on elsewhere (another transcriber took it)."""
        self._closed = True
        self._worker.cancel()
        # A worker cancelled before its first step never reaches its ``finally``: the end is said here too.
        self._events.put_nowait(None)

    async def events(self) -> AsyncIterator[CaptionEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    async def _work(self) -> None:
        try:
            while True:
                batch = [await self._frames.get()]
                while self._coalesce and not self._frames.empty() and isinstance(batch[-1], np.ndarray):
                    batch.append(self._frames.get_nowait())
                audio = [item for item in batch if isinstance(item, np.ndarray)]
                if audio:
                    joined = np.concatenate(audio) if len(audio) > 1 else audio[0]
                    self._publish(await self._run(self._recognizer.push, joined))
                    self._unprocessed -= len(joined)
                if batch[-1] is _END:
                    break
                if batch[-1] is _FLUSH:
                    self._publish(await self._run(self._recognizer.finish))
            self._publish(await self._run(self._recognizer.finish))
        finally:
            self._events.put_nowait(None)

    async def _run(self, work: Callable[..., list[CaptionEvent]], *args: Audio) -> list[CaptionEvent]:
        started = time.perf_counter()
        try:
            future = self._scheduler.submit(work, *args, urgent=self._recognizer.urgent)
            return await asyncio.wrap_future(future)
        finally:
            self.busy_seconds += time.perf_counter() - started

    def _publish(self, events: list[CaptionEvent]) -> None:
        if self._settle_marks and not events:
            mark = self._recognizer.settled_mark()
            if mark.settled >= self._marked + SETTLE_MARK_S:
                events = [mark]
        for event in events:
            self._marked = max(self._marked, event.settled)
            self._events.put_nowait(event)

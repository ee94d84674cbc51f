"""An async stream over a StreamingRecognizer: frames in as they arrive, caption events out.

Frames are queued and processed in order by one task per stream, inference in the engine's thread pool. With
``coalesce`` (live use) the task takes every frame that arrived while it was busy in one go, so a stream that
falls behind catches up instead of queueing decodes. Without it, frames are processed one by one: the decode
points depend only on the frames fed, which makes runs repeatable (simulation, tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import numpy as np

from captions.asr.events import CaptionEvent
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, pcm16_to_float32

_END = None


class RecognizerSession:
    def __init__(self, recognizer: StreamingRecognizer, executor: Executor, *, coalesce: bool = True) -> None:
        self._recognizer = recognizer
        self._executor = executor
        self._coalesce = coalesce
        self._frames: asyncio.Queue[Audio | None] = asyncio.Queue(maxsize=0 if coalesce else 4)
        self._events: asyncio.Queue[CaptionEvent | None] = asyncio.Queue()
        self._closed = False
        self._worker = asyncio.create_task(self._work())

    @property
    def audio_seconds(self) -> float:
        return self._recognizer.audio_seconds

    async def feed(self, frame: bytes) -> None:
        """Queue PCM16LE mono 16 kHz bytes; raises AudioFormatError for bytes that are not whole samples."""
        await self.feed_audio(pcm16_to_float32(frame))

    async def feed_audio(self, audio: Audio) -> None:
        if self._closed:
            raise RuntimeError("stream is finished")
        if len(audio):
            await self._frames.put(audio)

    async def finish(self) -> None:
        """No more audio: everything heard becomes final, then ``events()`` ends."""
        if not self._closed:
            self._closed = True
            await self._frames.put(_END)
        await asyncio.shield(self._worker)

    async def events(self) -> AsyncIterator[CaptionEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    async def cancel(self) -> None:
        self._closed = True
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)
        self._events.put_nowait(None)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            ending = False
            while not ending:
                batch = [await self._frames.get()]
                while self._coalesce and not self._frames.empty():
                    batch.append(self._frames.get_nowait())
                audio = [frame for frame in batch if frame is not None]
                ending = len(audio) < len(batch)
                if audio:
                    joined = np.concatenate(audio) if len(audio) > 1 else audio[0]
                    self._publish(await loop.run_in_executor(self._executor, self._recognizer.push, joined))
            self._publish(await loop.run_in_executor(self._executor, self._recognizer.finish))
        finally:
            self._events.put_nowait(None)

    def _publish(self, events: list[CaptionEvent]) -> None:
        for event in events:
            self._events.put_nowait(event)

"""Feed a recording through the streaming engine as if it were live, timing every caption event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from captions.asr.engine import Engine
from captions.audio.pcm import Audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent

DEFAULT_FRAME_S = 0.1


@dataclass(frozen=True)
class TimedEvent:
    """``emitted_at``: seconds of audio that had been captured when the event came out (see ``simulate``)."""

    event: CaptionEvent
    emitted_at: float

    @property
    def latency(self) -> float:
        return self.emitted_at - self.event.end

    def as_json(self) -> dict[str, object]:
        e = self.event
        return {
            "kind": e.kind,
            "id": e.id,
            "text": e.text,
            "start": round(e.start, 3),
            "end": round(e.end, 3),
            "emitted_at": round(self.emitted_at, 3),
        }


async def simulate(
    engine: Engine,
    audio: Audio,
    *,
    realtime: bool,
    frame_s: float = DEFAULT_FRAME_S,
    on_event: Callable[[TimedEvent], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    vocabulary: Sequence[str] = (),
) -> list[TimedEvent]:
    """Stream ``audio`` in ``frame_s`` frames.

    Real time: frame k is fed when its last sample would have left a microphone, so the clock (started when
    the audio starts) reads the audio position; events are timed by that clock, and latency is what a live
    user would see. Otherwise frames go in as fast as the engine takes them and events are timed by the
    audio fed so far: deterministic, for comparing runs.
    """
    loop = asyncio.get_running_loop()
    session = engine.open_stream(coalesce=realtime, vocabulary=vocabulary)
    timed: list[TimedEvent] = []
    clock_zero = loop.time()

    async def feed() -> None:
        nonlocal clock_zero
        clock_zero = loop.time()
        fed = 0
        for frame in split_frames(audio, frame_s):
            fed += len(frame)
            if realtime:
                await asyncio.sleep(max(0.0, clock_zero + fed / SAMPLE_RATE - loop.time()))
            await session.feed_audio(frame)
            if on_progress:
                on_progress(len(frame) / SAMPLE_RATE)
        await session.finish()

    feeder = asyncio.create_task(feed())
    async for event in session.events():
        emitted_at = loop.time() - clock_zero if realtime else event.audio_position
        item = TimedEvent(event, emitted_at)
        timed.append(item)
        if on_event:
            on_event(item)
    await feeder
    return timed

"""The transcriber when audio arrives faster than it can be recognised (lag is reported and partials give way,
finals never do) or twice (frames resent after a gateway crash are heard once)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from captions.asr.engine import Engine
from captions.asr.words import repeats_itself
from captions.bus.events import RoomEvent
from captions.bus.inputs import RoomInput
from captions.bus.memory import MemoryRoomEvents
from captions.metrics import Metrics
from captions.protocol import Caption, Lag
from captions.recognizers.local import LocalRecognizer
from captions.recognizers.registry import Recognizers
from captions.rooms.service import now
from captions.settings import Settings
from captions.store.base import RoomRecord, SessionRecord
from captions.store.sqlite import SqliteStore
from captions.transcriber.worker import TranscriberWorker
from tests.support.harness import pcm_frames
from tests.support.inputs import OneSession
from tests.support.speech import SpeechCorpus, normalise, word_error_rate


async def test_a_room_behind_real_time_reports_its_lag_skips_partials_and_keeps_every_final(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    store = await SqliteStore.open(tmp_path / "captions.db")
    await store.create_room(RoomRecord("room", "Lag", "en", "hash", now()))
    await store.start_session(SessionRecord("s1", "room", now()))
    bus, published, metrics = OneSession(), MemoryRoomEvents(), Metrics()
    recognizers = Recognizers(Settings(), LocalRecognizer(engine))
    worker = TranscriberWorker(recognizers, store, bus, published, metrics, lag_skip_s=1.0)
    events: list[RoomEvent] = []
    subscription = published.events()

    async def listen() -> None:
        async for event in subscription:
            events.append(event)

    await published.subscribe("room")
    listening = asyncio.create_task(listen())
    running = asyncio.create_task(worker.run())
    # Audio at 20x real time: what an overloaded transcriber sees (each decode falls further behind).
    await bus.send_input(RoomInput("room", "s1", "start"))
    at = 0.0
    for seq, pcm in enumerate(pcm_frames(speech.path("talk.wav"))):
        await bus.send_input(RoomInput("room", "s1", "audio", seq=seq, pcm=pcm, at=at))
        at += len(pcm) / 32_000
        await asyncio.sleep(0.005)
    await bus.send_input(RoomInput("room", "s1", "stop", at=at))
    await running
    await published.close()
    await listening

    lags = [e.payload.seconds for e in events if isinstance(e.payload, Lag)]
    assert lags, "the room is told that its captions are behind"
    assert max(lags) >= 1.0
    assert lags[-1] == 0, "and when they have caught up"
    assert metrics.partials_skipped._value.get() > 0, "partials give way while the room is behind"
    finals = [e.payload for e in events if isinstance(e.payload, Caption) and e.payload.kind == "final"]
    stored = await store.captions("s1")
    assert [(c.id, c.text) for c in finals] == [(r.id, r.text) for r in stored]
    assert word_error_rate(speech.reference("talk.wav"), " ".join(c.text for c in finals)) <= 0.15
    await store.close()


async def transcribe(engine: Engine, folder: Path, frames: list[bytes], order: list[int]) -> list[str]:
    """The stored transcript's words of one session whose frames arrive in ``order`` (by number)."""
    store = await SqliteStore.open(folder / "captions.db")
    await store.create_room(RoomRecord("room", "Resent", "en", "hash", now()))
    await store.start_session(SessionRecord("s1", "room", now()))
    bus = OneSession()
    worker = TranscriberWorker(Recognizers(Settings(), LocalRecognizer(engine)), store, bus, MemoryRoomEvents(),
                               Metrics(), lag_skip_s=1.0)  # fmt: skip
    running = asyncio.create_task(worker.run())
    starts = [sum(len(pcm) for pcm in frames[:seq]) / 32_000 for seq in range(len(frames))]
    await bus.send_input(RoomInput("room", "s1", "start"))
    for seq in order:
        await bus.send_input(RoomInput("room", "s1", "audio", seq=seq, pcm=frames[seq], at=starts[seq]))
    await bus.send_input(RoomInput("room", "s1", "stop", at=starts[-1] + 0.1))
    await running
    words = normalise(" ".join(caption.text for caption in await store.captions("s1"))).split()
    await store.close()
    return words


async def test_frames_resent_after_a_gateway_crash_are_not_heard_twice(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    """A gateway saves a session's progress once a second, not per frame: a presenter that moves to another
    gateway after a crash resends up to a second of frames it had sent. Each frame is heard once: the transcript
    is the one of the same frames sent once."""
    frames = pcm_frames(speech.path("talk.wav"))
    (tmp_path / "once").mkdir()
    (tmp_path / "resent").mkdir()
    once = await transcribe(engine, tmp_path / "once", frames, list(range(len(frames))))
    resent = range(80, 95)  # 1.5 s in the middle of a sentence, sent again after frame 94
    twice = await transcribe(
        engine, tmp_path / "resent", frames, [*range(95), *resent, *range(95, len(frames))]
    )
    assert not repeats_itself(twice), " ".join(twice)
    assert word_error_rate(" ".join(once), " ".join(twice)) <= 0.05, f"{' '.join(once)}\n{' '.join(twice)}"

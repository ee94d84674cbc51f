"""A transcriber that dies mid-talk leaves, with its last settled frame, the point where its voice detector last
restarted: the next owner resumes exactly there (``asr/streaming.py`` then hears the talk as the first did)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from captions.asr.engine import Engine
from captions.bus.inputs import RoomInput
from captions.bus.memory import MemoryRoomEvents, MemoryRoomInputs
from captions.metrics import Metrics
from captions.protocol import Caption
from captions.recognizers.base import RecognizerStream, Resume
from captions.recognizers.events import RestartPoint
from captions.recognizers.local import LocalRecognizer
from captions.recognizers.registry import Notify, Recognizers
from captions.rooms.service import now
from captions.settings import Settings
from captions.store.base import RoomRecord, SessionRecord
from captions.store.sqlite import SqliteStore
from captions.transcriber.worker import TranscriberWorker
from tests.support.harness import pcm_frames
from tests.support.inputs import OneSession, TakenAway
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

RECORDING = "jfk.wav"
BYTES_PER_SECOND = 32_000


class Resumes(Recognizers):
    """The real recognisers, noting what each stream was resumed with."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(settings, LocalRecognizer(engine))
        self.resumes: list[Resume] = []

    def open_stream(
        self, recognizer: str, language: str, vocabulary: Sequence[str], resume: Resume,
        on_fallback: Notify,
    ) -> tuple[RecognizerStream, str | None]:  # fmt: skip
        self.resumes.append(resume)
        return super().open_stream(recognizer, language, vocabulary, resume, on_fallback)


async def test_the_next_owner_resumes_at_the_restart_point_the_dead_one_stored(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    settings = Settings()
    store = await SqliteStore.open(tmp_path / "captions.db")
    await store.create_room(RoomRecord("room", "Handover", "en", "hash", now()))
    await store.start_session(SessionRecord("s1", "room", now()))
    frames = pcm_frames(speech.path(RECORDING))
    published = MemoryRoomEvents()
    await published.subscribe("room")
    subscription = published.events()

    async def restart_stored() -> SessionRecord:
        """The session once a restart point after an utterance is stored (checked at each event)."""
        async for _ in subscription:
            session = await store.latest_session("room")
            if session is not None and session.restart_at is not None and session.listen_from > 0:
                return session
        raise AssertionError("the events ended")

    inputs = MemoryRoomInputs()
    # The first transcriber's own connection: closed when it is killed, so nothing it still had in flight is
    # stored after (as with kill -9).
    its_store = await SqliteStore.open(tmp_path / "captions.db")
    first = TranscriberWorker(
        Resumes(settings, engine), its_store, inputs, published, Metrics(), settings.lag_skip_partials_s
    )
    running = asyncio.create_task(first.run())
    await inputs.send_input(RoomInput("room", "s1", "start"))
    at = 0.0
    for seq, pcm in enumerate(frames[:85]):  # 8.5 s: "ask not what your country ..." is under way
        await inputs.send_input(RoomInput("room", "s1", "audio", seq=seq, pcm=pcm, at=at))
        at += len(pcm) / BYTES_PER_SECOND
    await restart_stored()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await its_store.close()

    session = await store.latest_session("room")
    assert session is not None
    assert session.restart_at is not None, "a restart point is stored with the settled frame"
    assert session.settled_at <= session.restart_at < session.listen_from
    resumed = Resumes(settings, engine)
    inputs = OneSession()
    second = TranscriberWorker(resumed, store, inputs, published, Metrics(), settings.lag_skip_partials_s)
    running = asyncio.create_task(second.run())
    at = session.settled_at
    for seq in range(session.settled_seq + 1, len(frames)):
        await inputs.send_input(RoomInput("room", "s1", "audio", seq=seq, pcm=frames[seq], at=at))
        at += len(frames[seq]) / BYTES_PER_SECOND
    await inputs.send_input(RoomInput("room", "s1", "stop", at=at))
    await running

    assert resumed.resumes[0].restart == RestartPoint(session.restart_at, session.listen_from)
    transcript = " ".join(c.text for c in await store.captions("s1"))
    assert word_error_rate(speech.reference(RECORDING), transcript) <= 0.1, transcript
    assert normalise(transcript).count("ask not") == 1, transcript
    await store.close()


async def test_a_transcriber_that_lost_its_room_stores_and_tells_no_more_finals(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    """Its lease went while Redis failed over and another transcriber took the room with its unsettled audio:
    a final it still made would be a second version of one the new owner makes."""
    settings = Settings()
    store = await SqliteStore.open(tmp_path / "captions.db")
    await store.create_room(RoomRecord("room", "Handover", "en", "hash", now()))
    await store.start_session(SessionRecord("s1", "room", now()))
    published = MemoryRoomEvents()
    await published.subscribe("room")
    told = published.events()
    inputs = TakenAway(finals=1)
    worker = TranscriberWorker(
        Recognizers(settings, LocalRecognizer(engine)), store, inputs, published, Metrics(),
        settings.lag_skip_partials_s,
    )  # fmt: skip
    running = asyncio.create_task(worker.run())
    await inputs.send_input(RoomInput("room", "s1", "start"))
    at = 0.0
    for seq, pcm in enumerate(pcm_frames(speech.path(RECORDING))):
        await inputs.send_input(RoomInput("room", "s1", "audio", seq=seq, pcm=pcm, at=at))
        at += len(pcm) / BYTES_PER_SECOND
    await inputs.send_input(RoomInput("room", "s1", "stop", at=at))
    await running  # the stop settles every word heard: finals, were the room still its own
    await published.close()
    events = [event async for event in told]
    assert [caption.seq for caption in await store.captions("s1")] == [0], (
        "nothing stored after the room went"
    )
    finals = [e.payload.id for e in events if isinstance(e.payload, Caption) and e.payload.kind == "final"]
    assert finals == ["s1:0"], "nothing told after the room went"
    assert "ended" not in [event.name for event in events], "the new owner ends the session"
    await store.close()

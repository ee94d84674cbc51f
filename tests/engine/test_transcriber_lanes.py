"""One transcriber, many rooms: a room whose input takes long to handle holds back only itself.

A presenter stops after a long stretch of speech: the stop is handled once every word heard is final and stored,
seconds of decoding on this machine. A second room's browser caption, sent after that stop, is captioned (and
stored) while the first room is still being settled, not after it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from captions.asr.engine import Engine
from captions.bus.events import RoomEvent, SessionEnded
from captions.bus.inputs import RoomInput
from captions.bus.memory import MemoryRoomEvents, MemoryRoomInputs
from captions.metrics import Metrics
from captions.protocol import Caption
from captions.recognizers.local import LocalRecognizer
from captions.recognizers.registry import Recognizers
from captions.rooms.service import now
from captions.settings import Settings
from captions.store.base import RoomRecord, SessionRecord
from captions.store.sqlite import SqliteStore
from captions.transcriber.worker import TranscriberWorker
from tests.support.harness import pcm_frames
from tests.support.speech import SpeechCorpus

BYTES_PER_SECOND = 32_000


async def test_a_room_being_settled_does_not_hold_back_another_rooms_captions(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    store = await SqliteStore.open(tmp_path / "captions.db")
    for room_id, session_id in (("long", "s-long"), ("short", "s-short")):
        await store.create_room(RoomRecord(room_id, room_id, "en", "hash", now()))
        await store.start_session(SessionRecord(session_id, room_id, now()))
    inputs, published = MemoryRoomInputs(), MemoryRoomEvents()
    worker = TranscriberWorker(
        Recognizers(Settings(), LocalRecognizer(engine)), store, inputs, published, Metrics(), lag_skip_s=1.0
    )
    seen: list[RoomEvent] = []
    both_done = asyncio.Event()
    subscription = published.events()

    async def listen() -> None:
        async for event in subscription:
            seen.append(event)
            if any(_is_final(e, "short") for e in seen) and any(
                isinstance(e.payload, SessionEnded) for e in seen
            ):
                both_done.set()

    for room_id in ("long", "short"):
        await published.subscribe(room_id)
    listening = asyncio.create_task(listen())
    running = asyncio.create_task(worker.run())
    await inputs.send_input(RoomInput("long", "s-long", "start"))
    at = 0.0
    for seq, pcm in enumerate(pcm_frames(speech.path("talk.wav"))):  # faster than spoken: all of it at once
        await inputs.send_input(RoomInput("long", "s-long", "audio", seq=seq, pcm=pcm, at=at))
        at += len(pcm) / BYTES_PER_SECOND
    await inputs.send_input(RoomInput("long", "s-long", "stop", at=at))
    await inputs.send_input(RoomInput("short", "s-short", "text", text="Meanwhile, in room two.", final=True))
    await asyncio.wait_for(both_done.wait(), 120)

    short = next(n for n, event in enumerate(seen) if _is_final(event, "short"))
    ended = next(n for n, event in enumerate(seen) if isinstance(event.payload, SessionEnded))
    assert short < ended, "the second room's caption waited for the first room's stop"
    assert [c.text for c in await store.captions("s-short")] == ["Meanwhile, in room two."]
    assert len(await store.captions("s-long")) > 3, "the first room's talk was transcribed all the same"
    await inputs.close()
    await running
    await published.close()
    await listening
    await store.close()


def _is_final(event: RoomEvent, room_id: str) -> bool:
    return event.room_id == room_id and isinstance(event.payload, Caption) and event.payload.kind == "final"

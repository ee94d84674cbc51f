"""A talk is one session across ``captions serve`` restarts: SIGTERM and kill -9 of the real process while a
presenter speaks real speech, the presenter and a viewer reconnecting by themselves as the web app does."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from captions.asr.words import repeats_itself
from tests.support.harness import create_room, stored_finals
from tests.support.presenter_app import PresenterApp, ReconnectingClient
from tests.support.processes import CaptionsProcess
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

RECORDING = "talk.wav"
RESTART_AT_S = 9.0
# What the uninterrupted engine gets on this speech, with room for the re-decoded boundary; tuned on no file.
MAX_WER = 0.15


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[CaptionsProcess]:
    env = {"CAPTIONS_DATA_DIR": str(tmp_path / "data"), "CAPTIONS_WEB_DIR": str(tmp_path / "no-web-build")}
    process = CaptionsProcess("serve", env, tmp_path, "serve")
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.mark.parametrize("how", ["sigterm", "kill -9"])
async def test_a_talk_survives_a_server_restart_as_one_complete_session(
    serve: CaptionsProcess, speech: SpeechCorpus, how: str
) -> None:
    room = await create_room(serve, "Restarted mid-talk")
    speaker = await PresenterApp.of(serve, room).connect()
    audience = await ReconnectingClient(serve.url, {"room": room["id"], "role": "viewer"}).connect()
    restarted: list[asyncio.Task[None]] = []

    def restart() -> None:
        serve.kill() if how == "kill -9" else serve.stop()
        serve.start()

    def at_second(audio_s: float) -> None:
        if audio_s == RESTART_AT_S:
            restarted.append(asyncio.create_task(asyncio.to_thread(restart)))

    await speaker.speak(speech.path(RECORDING), on_second=at_second)
    await restarted[0]
    await speaker.wait_for(lambda: speaker.connects >= 2 and speaker.synced)
    stop_sent = time.monotonic()
    await speaker.sio.emit("stop")
    await audience.wait_for(audience.ended, within_s=60)
    stop_to_ended_s = time.monotonic() - stop_sent

    finals = await stored_finals(serve, room["id"])
    async with httpx.AsyncClient(base_url=serve.url) as http:
        sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
    words = normalise(" ".join(c["text"] for c in finals)).split()
    wer = word_error_rate(speech.reference(RECORDING), " ".join(words))
    print(f"\n{how}: sessions {len(sessions)}, WER {wer:.3f}, stop -> ended {stop_to_ended_s:.2f} s, "
          f"frames resent {speaker.resent}")  # fmt: skip

    assert [(s["state"], s["ended_at"] is not None) for s in sessions] == [("ended", True)], "one talk"
    assert len({s["session_id"] for s in speaker.statuses if s["session_id"]}) == 1
    assert speaker.resent > 0, "the presenter resent what the restart lost or was away for"
    assert [int(c["id"].rpartition(":")[2]) for c in finals] == list(range(len(finals)))
    for before, after in itertools.pairwise(finals):
        assert after["start"] >= before["end"] - 0.1, f"{after} overlaps {before}"
    assert not repeats_itself(words), " ".join(words)
    assert wer <= MAX_WER, " ".join(words)
    await audience.wait_for(lambda: len(audience.finals) >= len(finals), within_s=10)
    assert [(c["id"], c["text"]) for c in audience.finals] == [(c["id"], c["text"]) for c in finals], (
        "the viewer, reconnected, has exactly the stored transcript"
    )
    for client in (speaker, audience):
        await client.disconnect()

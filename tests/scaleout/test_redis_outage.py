"""A Redis outage longer than the gateway's retry window under a live talk (issue #29 item 7): the frames the
gateway could not queue are asked for again (``resend`` with the frame to go on from), the presenter's app
sends its kept audio again, and the talk's transcript has no gap and no repeat. Real processes, a real
redis-server stopped for real."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest

from captions.asr.words import repeats_itself
from tests.support.deployment import Deployment
from tests.support.harness import create_room
from tests.support.presenter_app import PresenterApp
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

RETRY_S = 1.0  # the gateways' patience with Redis
DOWN_S = 4.0  # the outage: four times that
LAST_WORDS_END_S = 10.0  # "... for your country." ends at 10.3 s of jfk.wav


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt-get)")
    running = Deployment(
        tmp_path_factory.mktemp("outage"), gateway_settings={"CAPTIONS_REDIS_RETRY_S": str(RETRY_S)}
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


async def test_speech_during_a_redis_outage_past_the_retry_window_is_sent_again_and_kept(
    deployment: Deployment, speech: SpeechCorpus
) -> None:
    gateway = deployment.gateways[0]
    room = await create_room(gateway)
    speaker = await PresenterApp.of(gateway, room).connect()
    outage: list[asyncio.Task[None]] = []

    def at(second: float) -> None:
        if second == 3.0:
            outage.append(asyncio.create_task(asyncio.to_thread(deployment.server.restart, DOWN_S)))

    await speaker.speak(speech.path("jfk.wav"), on_second=at)
    await outage[0]
    assert any(e["code"] == "resend" for e in speaker.errors), "the outage outlasted the gateway's patience"
    # The recording's last words heard: the frames are taken in order, so every frame before them was taken
    # (those after them are sent already, and Stop goes after them).
    await speaker.wait_for(lambda: any(c["end"] >= LAST_WORDS_END_S for c in speaker.captions), within_s=60)
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended, within_s=60)
    assert speaker.statuses[-1]["last_seq"] == speaker.next_seq - 1, (
        "every frame was taken, the last included"
    )
    finals = speaker.finals
    assert [int(c["id"].rpartition(":")[2]) for c in finals] == list(range(len(finals)))
    said = " ".join(c["text"] for c in finals)
    assert not repeats_itself(normalise(said).split()), said
    assert word_error_rate(speech.reference("jfk.wav"), said) <= 0.15, said
    await speaker.disconnect()

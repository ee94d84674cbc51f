"""One contract, every recogniser: the local engine, Google Speech-to-Text v2 and Azure Speech (the cloud ones
through their real client libraries, against local fakes that speak each service's protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from captions.asr.engine import Engine
from captions.recognizers.base import Recognizer, Resume, StreamOptions
from tests.support.recognizers import LANGUAGE, RECOGNIZERS, Heard, frames_of, listen, reach, recognise
from tests.support.speech import SpeechCorpus, word_error_rate

pytestmark = pytest.mark.slow


@pytest.fixture(params=RECOGNIZERS)
async def recognizer(request: pytest.FixtureRequest, engine: Engine) -> AsyncIterator[Recognizer]:
    async with reach(request.param, engine) as reached:
        yield reached


def options(recognizer: Recognizer, resume: Resume | None = None) -> StreamOptions:
    return StreamOptions(LANGUAGE[recognizer.name], resume=resume or Resume(0.0, 0.0))


async def test_speech_becomes_numbered_timed_finals_with_partials_before_them(
    recognizer: Recognizer, speech: SpeechCorpus
) -> None:
    heard = await recognise(recognizer.open_stream(options(recognizer)), frames_of(speech.path("jfk.wav")))
    assert heard.failure is None
    assert word_error_rate(speech.reference("jfk.wav"), heard.text) <= 0.25
    finals = heard.finals
    assert [f.id for f in finals] == list(range(len(finals))), "finals count from 0"
    assert any(e.kind == "partial" and e.text for e in heard.events), "words show before they are final"
    done = 0
    for event in heard.events:
        if event.kind == "partial":
            assert event.id == done, "a partial carries the id its final will take"
        elif event.kind == "final":
            done += 1
    ends = [f.end for f in finals]
    assert ends == sorted(ends)
    assert all(f.start <= f.end for f in finals)
    assert 0.0 <= finals[0].start < 1.5, "times are seconds of the stream"
    assert 9.0 < finals[-1].end <= 11.5
    settled = [e.settled for e in heard.events]
    assert settled == sorted(settled), "the settled point never moves back"


async def test_a_pause_makes_what_was_heard_final_without_more_audio(
    recognizer: Recognizer, speech: SpeechCorpus
) -> None:
    stream = recognizer.open_stream(options(recognizer))
    heard = Heard()
    listening = asyncio.create_task(listen(stream, heard))
    for frame in frames_of(speech.path("jfk.wav"))[:30]:  # "And so my fellow Americans, ..."
        await stream.feed(frame)
    await stream.flush()
    deadline = asyncio.get_running_loop().time() + 30
    while "americans" not in heard.text.lower():
        assert asyncio.get_running_loop().time() < deadline, f"no final after the pause: {heard.events[-3:]}"
        await asyncio.sleep(0.05)
    stream.abandon()
    await asyncio.wait_for(listening, 10)


async def test_a_resumed_stream_does_not_say_again_what_was_final(
    recognizer: Recognizer, speech: SpeechCorpus
) -> None:
    resume = Resume(at=20.0, committed_end=22.5, prompt="And so my fellow Americans,")
    stream = recognizer.open_stream(options(recognizer, resume=resume))
    heard = await recognise(stream, frames_of(speech.path("jfk.wav")))
    assert heard.finals, "the rest is said"
    assert all(f.end > 22.5 for f in heard.finals), "nothing final before the resume point comes again"
    assert heard.finals[0].start >= 20.0, "times continue the session's"
    assert "americans" not in heard.text.lower()
    assert heard.finals[-1].end <= 31.5


async def test_an_abandoned_stream_says_nothing_more(recognizer: Recognizer, speech: SpeechCorpus) -> None:
    stream = recognizer.open_stream(options(recognizer))
    heard = Heard()
    listening = asyncio.create_task(listen(stream, heard))
    for frame in frames_of(speech.path("jfk.wav"))[:20]:
        await stream.feed(frame)
    stream.abandon()
    await asyncio.wait_for(listening, 10)
    assert heard.failure is None

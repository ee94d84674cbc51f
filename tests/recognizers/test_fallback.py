"""A cloud recogniser failing mid-talk: the local model carries the talk on, with no gap and no duplicate."""

from __future__ import annotations

import itertools

import pytest

from captions.asr.engine import Engine
from captions.recognizers.base import Resume
from captions.recognizers.local import LocalRecognizer
from captions.recognizers.registry import Recognizers
from captions.settings import Settings
from tests.support.recognizers import frames_of, reach, recognise
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cloud", ["google", "azure"])
async def test_the_local_model_takes_over_mid_talk_with_no_gap_and_no_duplicate(
    engine: Engine, speech: SpeechCorpus, cloud: str
) -> None:
    frames = frames_of(speech.path("talk.wav"))
    told: list[str] = []

    async def tell(reason: str) -> None:
        told.append(reason)

    async with reach(cloud, engine, fail_after_s=12.0) as service:
        recognizers = Recognizers(Settings(), LocalRecognizer(engine), [service])
        stream, why = recognizers.open_stream(cloud, "en", (), Resume(0.0, 0.0), tell)
        heard = await recognise(stream, frames)
    assert why is None
    assert heard.failure is None, "the room never sees the failure as an end"
    assert len(told) == 1
    assert "unreachable" in told[0] or "failed" in told[0]
    reference = speech.reference("talk.wav")
    assert word_error_rate(reference, heard.text) <= 0.2, "no gap: the whole talk is there"
    assert len(normalise(heard.text).split()) <= len(normalise(reference).split()) + 3, "nothing said twice"
    finals = heard.finals
    assert any(f.end <= 12.0 for f in finals), "the service captioned the start"
    assert any(f.start >= 14.0 for f in finals), "the local model the rest"
    for before, after in itertools.pairwise(finals):
        assert after.start >= before.end - 0.3, f"overlapping finals: {before.text!r} / {after.text!r}"
    ends = [f.end for f in finals]
    assert ends == sorted(ends)


async def test_a_language_the_local_model_cannot_speak_stops_with_a_reason(
    engine: Engine, speech: SpeechCorpus
) -> None:
    told: list[str] = []

    async def tell(reason: str) -> None:
        told.append(reason)

    async with reach("google", engine, fail_after_s=3.0) as service:
        recognizers = Recognizers(Settings(), LocalRecognizer(engine), [service])
        stream, _ = recognizers.open_stream("google", "de", (), Resume(0.0, 0.0), tell)
        heard = await recognise(stream, frames_of(speech.path("jfk.wav")))
    assert heard.failure is None
    assert len(told) == 1
    assert "does not transcribe the room's language" in told[0]


async def test_a_recogniser_this_transcriber_lacks_is_replaced_by_the_local_one_and_said_so(
    engine: Engine, speech: SpeechCorpus
) -> None:
    async def tell(reason: str) -> None:
        raise AssertionError("not a failure mid-talk")

    recognizers = Recognizers(Settings(), LocalRecognizer(engine))
    stream, why = recognizers.open_stream("azure", "en", (), Resume(0.0, 0.0), tell)
    heard = await recognise(stream, frames_of(speech.path("jfk.wav")))
    assert why == "the recogniser 'azure' is not configured here"
    assert "country" in heard.text.lower()

"""Google Speech-to-Text v2 through the real client library, against a local fake of the service that speaks
its gRPC protocol (no Google service is reachable from here: ``make test-cloud`` runs the real one)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from captions.asr.engine import Engine
from captions.recognizers.base import StreamOptions
from captions.recognizers.google import MAX_REQUEST_BYTES, GoogleRecognizer
from captions.settings import Settings
from tests.support.fake_google import FakeSpeech
from tests.support.recognizers import frames_of, recognise
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

pytestmark = pytest.mark.slow


def google(fake: FakeSpeech, **settings: Any) -> GoogleRecognizer:
    base = Settings(
        google_project="talks-2026", google_location="europe-west4", google_endpoint=fake.endpoint
    )
    return GoogleRecognizer(base.model_copy(update=settings))


async def test_the_stream_is_configured_as_the_service_asks(engine: Engine, speech: SpeechCorpus) -> None:
    async with FakeSpeech(engine) as fake:
        recognizer = google(fake, google_recognizer="captions", google_model="chirp_2")
        big_frames = [b"".join(frames_of(speech.path("jfk.wav"))[i : i + 20]) for i in range(0, 110, 20)]
        heard = await recognise(
            recognizer.open_stream(StreamOptions("en-GB", ("Kubernetes", "Xiaomi"))), big_frames
        )
        await recognizer.close()
    assert heard.failure is None
    assert fake.received.recognizers == ["projects/talks-2026/locations/europe-west4/recognizers/captions"]
    [streaming] = fake.received.configs
    config = streaming.config
    decoding = config.explicit_decoding_config
    assert (decoding.encoding.name, decoding.sample_rate_hertz, decoding.audio_channel_count) == (
        "LINEAR16",
        16000,
        1,
    )
    assert list(config.language_codes) == ["en-GB"]
    assert config.model == "chirp_2"
    assert streaming.streaming_features.interim_results
    [phrase_set] = config.adaptation.phrase_sets
    assert [p.value for p in phrase_set.inline_phrase_set.phrases] == ["Kubernetes", "Xiaomi"]
    assert fake.received.bad_requests == []
    assert 0 < fake.received.largest_request <= MAX_REQUEST_BYTES, (
        "2-second frames go in requests of 25,600 B"
    )
    assert fake.received.audio_bytes == [sum(map(len, big_frames))], "every byte sent, once"


async def test_streams_are_replaced_before_googles_limit_without_losing_or_repeating_words(
    engine: Engine, speech: SpeechCorpus
) -> None:
    frames = frames_of(speech.path("talk.wav"))
    async with FakeSpeech(engine) as fake:
        recognizer = google(fake, google_stream_s=6.0)
        heard = await recognise(recognizer.open_stream(StreamOptions("en-US")), frames)
        await recognizer.close()
    assert heard.failure is None
    assert len(fake.received.configs) >= 4, "a stream lasts about google_stream_s of audio"
    assert sum(fake.received.audio_bytes) == sum(map(len, frames)), "each byte went to exactly one stream"
    reference = speech.reference("talk.wav")
    assert word_error_rate(reference, heard.text) <= 0.2
    said = normalise(heard.text).split()
    assert len(said) <= len(normalise(reference).split()) + 3, "no stretch of words said twice"
    ends = [f.end for f in heard.finals]
    assert ends == sorted(ends), "times run on across streams"
    assert 33.0 < ends[-1] <= 35.5


async def test_a_pause_opens_no_stream_that_google_would_end_for_waiting(
    engine: Engine, speech: SpeechCorpus
) -> None:
    frames = frames_of(speech.path("jfk.wav"))
    async with FakeSpeech(engine) as fake:
        fake.idle_timeout_s = 0.5
        recognizer = google(fake)
        stream = recognizer.open_stream(StreamOptions("en-US"))
        for frame in frames[:45]:
            await stream.feed(frame)
        await stream.flush()
        # The presenter pauses for longer than Google waits for audio on a stream.
        await asyncio.sleep(1.0)
        heard = await recognise(stream, frames[45:])
        await recognizer.close()
    assert heard.failure is None
    assert fake.received.idle_streams == 0
    assert len(fake.received.configs) == 2, "the stream after the pause opened with its first audio"
    assert word_error_rate(speech.reference("jfk.wav"), heard.text) <= 0.25


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, "Google refused the credentials"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "the Google Speech-to-Text quota is used up"),
        (grpc.StatusCode.UNAVAILABLE, "Google Speech-to-Text is unreachable"),
    ],
)
async def test_a_failing_service_ends_the_stream_with_a_reason_fit_to_show(
    engine: Engine, speech: SpeechCorpus, code: grpc.StatusCode, reason: str
) -> None:
    async with FakeSpeech(engine) as fake:
        fake.fail_after_s, fake.fail_code = 3.0, code
        recognizer = google(fake)
        heard = await recognise(
            recognizer.open_stream(StreamOptions("en-US")), frames_of(speech.path("jfk.wav"))
        )
        await recognizer.close()
    assert heard.failure is not None
    assert heard.failure.reason == reason

"""Azure Speech through the real SDK. Its service cannot run here; a local fake speaks the WebSocket protocol the
SDK uses with Speech containers (``CAPTIONS_AZURE_SPEECH_HOST``), so what the SDK sends (language, phrase list,
audio) is checked on the wire. Key-and-region configuration is checked on the SDK's own config object;
``make test-cloud`` runs against the real service."""

from __future__ import annotations

import azure.cognitiveservices.speech as speechsdk
import pytest

from captions.asr.engine import Engine
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.azure import AzureRecognizer, speech_config
from captions.recognizers.base import StreamOptions
from captions.settings import Settings
from tests.support.fake_azure import FakeAzureSpeech
from tests.support.recognizers import frames_of, recognise
from tests.support.speech import SpeechCorpus

pytestmark = pytest.mark.slow


def test_key_and_region_or_a_container_host_configure_the_sdk() -> None:
    by_region = speech_config(Settings(azure_speech_key="k-123", azure_speech_region="westeurope"), "de-DE")
    assert by_region.get_property(speechsdk.PropertyId.SpeechServiceConnection_Key) == "k-123"
    assert by_region.get_property(speechsdk.PropertyId.SpeechServiceConnection_Region) == "westeurope"
    assert by_region.speech_recognition_language == "de-DE"
    on_premises = speech_config(Settings(azure_speech_host="ws://speech:5000"), "en-US")
    assert on_premises.get_property(speechsdk.PropertyId.SpeechServiceConnection_Host) == "ws://speech:5000"
    assert on_premises.speech_recognition_language == "en-US"


async def test_language_phrase_list_and_audio_reach_the_service(engine: Engine, speech: SpeechCorpus) -> None:
    frames = frames_of(speech.path("jfk.wav"))
    async with FakeAzureSpeech(engine) as fake:
        recognizer = AzureRecognizer(Settings(azure_speech_host=fake.host))
        heard = await recognise(
            recognizer.open_stream(StreamOptions("en-GB", ("Kubernetes", "Xiaomi"))), frames
        )
    assert heard.failure is None
    assert fake.received.languages == ["en-GB"]
    assert fake.received.phrases == [["Kubernetes", "Xiaomi"]]
    assert fake.received.audio_bytes == sum(map(len, frames)), "the push stream carried every sample once"


async def test_a_pause_adds_silence_for_the_service_but_not_to_the_talks_times(
    engine: Engine, speech: SpeechCorpus
) -> None:
    frames = frames_of(speech.path("jfk.wav"))
    async with FakeAzureSpeech(engine) as fake:
        stream = AzureRecognizer(Settings(azure_speech_host=fake.host)).open_stream(StreamOptions("en-US"))
        for frame in frames[:45]:
            await stream.feed(frame)
        await stream.flush()
        heard = await recognise(stream, frames[45:])
    silence = fake.received.audio_bytes - sum(map(len, frames))
    assert silence / BYTES_PER_SAMPLE / SAMPLE_RATE == pytest.approx(1.0), (
        "the service heard a second of silence"
    )
    assert heard.finals[-1].end <= 11.2, "the talk's times leave it out"
    assert "country" in heard.text.lower()


async def test_a_refused_key_ends_the_stream_with_a_reason_that_names_no_secret(
    engine: Engine, speech: SpeechCorpus
) -> None:
    async with FakeAzureSpeech(engine) as fake:
        fake.refuse_key = True
        settings = Settings(azure_speech_host=fake.host, azure_speech_key="very-secret-key")
        heard = await recognise(
            AzureRecognizer(settings).open_stream(StreamOptions("en-US")), frames_of(speech.path("jfk.wav"))
        )
    assert heard.failure is not None
    assert heard.failure.reason == "Azure Speech refused the key"
    assert "very-secret-key" not in heard.failure.reason

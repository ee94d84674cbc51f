"""The cloud recognisers against the real Azure Speech and Google Speech-to-Text (``make test-cloud``). Skipped,
saying why, where their credentials are not set: nothing here can reach them from the development machine, so
these run wherever an operator has credentials."""

from __future__ import annotations

import pytest

from captions.recognizers.base import StreamOptions
from captions.recognizers.catalog import configured
from captions.settings import Settings
from tests.support.recognizers import frames_of, recognise
from tests.support.speech import SpeechCorpus, word_error_rate

pytestmark = pytest.mark.cloud


def needs(settings: Settings, recognizer: str) -> None:
    if recognizer not in configured(settings):
        how = {
            "azure": "set CAPTIONS_AZURE_SPEECH_KEY and CAPTIONS_AZURE_SPEECH_REGION (or CAPTIONS_AZURE_SPEECH_HOST)",
            "google": "set CAPTIONS_GOOGLE_PROJECT and Google credentials (GOOGLE_APPLICATION_CREDENTIALS)",
        }[recognizer]
        pytest.skip(f"no {recognizer} credentials: {how} to run this against the real service")


async def test_azure_speech_transcribes_a_recording_with_its_phrase_list(
    cloud_settings: Settings, speech: SpeechCorpus
) -> None:
    needs(cloud_settings, "azure")
    from captions.recognizers.azure import AzureRecognizer

    stream = AzureRecognizer(cloud_settings).open_stream(StreamOptions("en-US", ("Americans",)))
    heard = await recognise(stream, frames_of(speech.path("jfk.wav")))
    assert heard.failure is None, heard.failure
    assert word_error_rate(speech.reference("jfk.wav"), heard.text) <= 0.2
    assert heard.finals[-1].end <= 11.5


async def test_azure_speech_refuses_a_wrong_key_with_a_reason(
    cloud_settings: Settings, speech: SpeechCorpus
) -> None:
    needs(cloud_settings, "azure")
    from captions.recognizers.azure import AzureRecognizer

    wrong = cloud_settings.model_copy(
        update={"azure_speech_key": type(cloud_settings.azure_speech_key)("0" * 32)}
    )
    heard = await recognise(
        AzureRecognizer(wrong).open_stream(StreamOptions("en-US")), frames_of(speech.path("jfk.wav"))
    )
    assert heard.failure is not None
    assert "refused" in heard.failure.reason


async def test_google_speech_transcribes_across_rotated_streams(
    cloud_settings: Settings, speech: SpeechCorpus
) -> None:
    needs(cloud_settings, "google")
    from captions.recognizers.google import GoogleRecognizer

    recognizer = GoogleRecognizer(cloud_settings.model_copy(update={"google_stream_s": 10.0}))
    try:
        heard = await recognise(recognizer.open_stream(StreamOptions("en-US", ("Americans",))),
                                frames_of(speech.path("talk.wav")))  # fmt: skip
    finally:
        await recognizer.close()
    assert heard.failure is None, heard.failure
    assert word_error_rate(speech.reference("talk.wav"), heard.text) <= 0.2
    ends = [f.end for f in heard.finals]
    assert ends == sorted(ends)

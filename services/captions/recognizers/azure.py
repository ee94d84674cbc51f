"""``azure``: Azure Speech through its SDK (``azure-cognitiveservices-speech``), continuous recognition.

Audio goes into a push stream (PCM16 16 kHz mono); ``recognizing`` results become partials, ``recognized`` ones
finals, their offsets and durations (100 ns ticks from the start of the stream) session times. The SDK calls
back on its own threads; every callback hops onto the event loop. The service is reached with a key and region,
or at ``CAPTIONS_AZURE_SPEECH_HOST`` (an on-premises Speech container). Vocabulary is the SDK's phrase list;
a change applies from the service's next phrase.

A pause has to make what was heard final, but Azure finalises a phrase only on hearing silence: the stream gets
that silence (``PAUSE_SILENCE_S``), and the times after it are taken back by as much.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import azure.cognitiveservices.speech as speechsdk

from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.base import RecognizerStream, StreamOptions
from captions.recognizers.cloud import CloudCaptions, check_pcm
from captions.recognizers.events import CaptionEvent
from captions.settings import Settings

log = logging.getLogger(__name__)

TICKS_PER_SECOND = 10_000_000
PAUSE_SILENCE_S = 1.0

REASONS = {
    speechsdk.CancellationErrorCode.AuthenticationFailure: "Azure Speech refused the key",
    speechsdk.CancellationErrorCode.Forbidden: "Azure Speech refused access (quota or permissions)",
    speechsdk.CancellationErrorCode.TooManyRequests: "the Azure Speech quota is used up",
    speechsdk.CancellationErrorCode.ConnectionFailure: "Azure Speech is unreachable",
    speechsdk.CancellationErrorCode.ServiceTimeout: "Azure Speech did not answer in time",
    speechsdk.CancellationErrorCode.ServiceUnavailable: "Azure Speech is unavailable",
    speechsdk.CancellationErrorCode.ServiceError: "Azure Speech failed",
    speechsdk.CancellationErrorCode.BadRequest: "Azure Speech refused the stream's configuration",
}


def speech_config(settings: Settings, language: str) -> speechsdk.SpeechConfig:
    key = settings.azure_speech_key.get_secret_value() or None
    if settings.azure_speech_host:
        config = speechsdk.SpeechConfig(host=settings.azure_speech_host, subscription=key)
    else:
        config = speechsdk.SpeechConfig(subscription=key, region=settings.azure_speech_region)
    config.speech_recognition_language = language
    return config


def failure_reason(details: Any) -> str:
    """What went wrong, safe for the presenter and the log: the SDK's error code, never its details (they can
    carry the endpoint's query and the session id)."""
    code = getattr(details, "code", None)
    if code in REASONS:
        return REASONS[code]
    return f"Azure Speech failed ({getattr(code, 'name', 'unknown error')})"


class AzureRecognizer:
    name = "azure"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def open_stream(self, options: StreamOptions) -> RecognizerStream:
        return AzureStream(speech_config(self._settings, options.language), options)

    async def close(self) -> None:
        return None


class AzureStream:
    busy_seconds = 0.0  # the work is Azure's

    def __init__(self, config: speechsdk.SpeechConfig, options: StreamOptions) -> None:
        self._loop = asyncio.get_running_loop()
        self._captions = CloudCaptions(options.resume)
        self._base = options.resume.at
        self._pauses: list[tuple[float, float]] = []  # (stream time, silence added there)
        self._stream_seconds = 0.0
        audio_format = speechsdk.audio.AudioStreamFormat(
            samples_per_second=SAMPLE_RATE, bits_per_sample=16, channels=1
        )
        self._audio = speechsdk.audio.PushAudioInputStream(stream_format=audio_format)
        self._recognizer = speechsdk.SpeechRecognizer(
            speech_config=config, audio_config=speechsdk.audio.AudioConfig(stream=self._audio)
        )
        self._phrases = speechsdk.PhraseListGrammar.from_recognizer(self._recognizer)
        self._set_phrases(options.vocabulary)
        self._recognizer.recognizing.connect(lambda event: self._soon(self._recognizing, event))
        self._recognizer.recognized.connect(lambda event: self._soon(self._recognized, event))
        self._recognizer.canceled.connect(lambda event: self._soon(self._canceled, event))
        self._recognizer.session_stopped.connect(lambda _: self._soon(self._stopped, None))
        self._closed = False
        self._started = self._loop.run_in_executor(None, self._start)

    @property
    def lag_seconds(self) -> float:
        return self._captions.lag_seconds

    async def feed(self, frame: bytes) -> None:
        check_pcm(frame)
        if self._closed or not frame:
            return
        self._audio.write(frame)
        self._stream_seconds += len(frame) / BYTES_PER_SAMPLE / SAMPLE_RATE
        self._captions.fed(frame)

    async def flush(self) -> None:
        if self._closed:
            return
        silence = round(PAUSE_SILENCE_S * SAMPLE_RATE) * BYTES_PER_SAMPLE
        self._audio.write(bytes(silence))
        self._pauses.append((self._stream_seconds, PAUSE_SILENCE_S))
        self._stream_seconds += PAUSE_SILENCE_S

    async def finish(self) -> None:
        if not self._closed:
            self._closed = True
            self._audio.close()  # the service finalises what it heard, then the session stops
        with contextlib.suppress(Exception):
            await self._started
        await self._captions.ended()
        await self._loop.run_in_executor(None, self._stop)

    def abandon(self) -> None:
        self._closed = True
        self._captions.end()
        self._audio.close()
        self._loop.run_in_executor(None, self._stop)

    def events(self) -> AsyncIterator[CaptionEvent]:
        return self._captions.events()

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        self._set_phrases(terms)

    # --- SDK side ------------------------------------------------------------------------------------------

    def _set_phrases(self, terms: Sequence[str]) -> None:
        self._phrases.clear()
        for term in terms:
            self._phrases.addPhrase(term)

    def _start(self) -> None:
        self._recognizer.start_continuous_recognition_async().get()

    def _stop(self) -> None:
        with contextlib.suppress(Exception):
            self._recognizer.stop_continuous_recognition_async().get()

    def _soon(self, handle: Any, event: Any) -> None:
        """SDK thread -> event loop."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for this stream any more
            self._loop.call_soon_threadsafe(handle, event)

    def _session_time(self, ticks: int) -> float:
        seconds = ticks / TICKS_PER_SECOND
        added = sum(length for at, length in self._pauses if at < seconds)
        return self._base + max(0.0, seconds - added)

    def _recognizing(self, event: Any) -> None:
        result = event.result
        self._captions.partial(result.text, self._session_time(result.offset + result.duration))

    def _recognized(self, event: Any) -> None:
        result = event.result
        end = self._session_time(result.offset + result.duration)
        if result.reason == speechsdk.ResultReason.RecognizedSpeech:
            self._captions.final(result.text, self._session_time(result.offset), end)
        else:  # NoMatch: the service heard no words there
            self._captions.done_until(end)

    def _canceled(self, event: Any) -> None:
        details = event.cancellation_details
        if self._captions.over:
            return  # the SDK also cancels a session it is told to stop after the end
        if details.reason == speechsdk.CancellationReason.EndOfStream:
            self._captions.end()
            return
        reason = failure_reason(details)
        log.warning("azure stream failed: %s", reason)
        self._captions.fail(reason)

    def _stopped(self, _: Any) -> None:
        self._captions.end()

"""``google``: Google Cloud Speech-to-Text v2 streaming recognition.

Audio goes out as LINEAR16 16 kHz mono in requests of at most 25,600 bytes; interim results become partials,
final ones finals, their offsets (from the start of each gRPC stream) session times. Google ends a stream after
about five minutes, so a stream is replaced before that (``CAPTIONS_GOOGLE_STREAM_S``), at a quiet frame where
one comes: the old stream is half-closed, so Google finalises exactly the audio it was sent, while the new one
already takes the audio that follows; the new stream's results are read only after the old one's last. Each
byte goes to one stream: no word is lost or said twice. A pause does the same at once (its words become final).

Vocabulary goes as inline adaptation phrases; a change applies from the next stream, which starts at the next
quiet frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import grpc
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.cloud.speech_v2 import SpeechAsyncClient
from google.cloud.speech_v2.services.speech.transports import SpeechGrpcAsyncIOTransport
from google.cloud.speech_v2.types import cloud_speech as cs

from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.base import RecognizerStream, StreamOptions
from captions.recognizers.cloud import CloudCaptions, check_pcm, is_quiet
from captions.recognizers.events import CaptionEvent
from captions.settings import Settings

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 25_600  # Google's limit for one streaming request's audio
# A stream past its due time with no quiet frame is replaced anyway this much later (Google's limit is 300 s).
ROTATE_GRACE_S = 5.0
# Phrases boosted this much: enough for names and jargon, not so much that they are heard everywhere.
PHRASE_BOOST = 10.0
# Requests waiting for one gRPC stream at most (about 2 minutes of audio): a stream that takes nothing fails.
MAX_QUEUED_REQUESTS = 1_200

REASONS = {
    grpc.StatusCode.UNAUTHENTICATED: "Google refused the credentials",
    grpc.StatusCode.PERMISSION_DENIED: "Google refused access to Speech-to-Text for this project",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "the Google Speech-to-Text quota is used up",
    grpc.StatusCode.UNAVAILABLE: "Google Speech-to-Text is unreachable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "Google Speech-to-Text did not answer in time",
    grpc.StatusCode.INVALID_ARGUMENT: "Google Speech-to-Text refused the stream's configuration",
}


def google_client(settings: Settings) -> SpeechAsyncClient:
    """The client, credentials found the library's usual way; ``http://host:port`` is a plaintext channel with
    no credentials (emulators and tests)."""
    endpoint = settings.google_endpoint
    if endpoint.startswith("http://"):
        channel = grpc.aio.insecure_channel(endpoint.removeprefix("http://").rstrip("/"))
        return SpeechAsyncClient(transport=SpeechGrpcAsyncIOTransport(channel=channel))
    location = settings.google_location
    host = endpoint or (
        "speech.googleapis.com" if location == "global" else f"{location}-speech.googleapis.com"
    )
    return SpeechAsyncClient(client_options=ClientOptions(api_endpoint=host))


def failure_reason(error: BaseException) -> str:
    """What went wrong, in words safe for the presenter and the log: the status, never the service's details."""
    code = error.code() if isinstance(error, grpc.aio.AioRpcError) else None
    if isinstance(error, google_errors.GoogleAPICallError) and error.grpc_status_code is not None:
        code = error.grpc_status_code
    if code is not None:
        return REASONS.get(code, f"Google Speech-to-Text failed ({code.name})")
    return f"Google Speech-to-Text failed ({type(error).__name__})"


class GoogleRecognizer:
    name = "google"

    def __init__(self, settings: Settings, client: SpeechAsyncClient | None = None) -> None:
        self._settings = settings
        self.stream_s = settings.google_stream_s  # a stream is replaced after this much audio
        self._client = client or google_client(settings)
        self.recognizer_path = (
            f"projects/{settings.google_project}/locations/{settings.google_location}"
            f"/recognizers/{settings.google_recognizer}"
        )

    def open_stream(self, options: StreamOptions) -> RecognizerStream:
        return GoogleStream(self, options)

    def config_request(self, language: str, terms: Sequence[str]) -> cs.StreamingRecognizeRequest:
        adaptation = None
        if terms:
            phrases = [cs.PhraseSet.Phrase(value=term, boost=PHRASE_BOOST) for term in terms]
            adaptation = cs.SpeechAdaptation(
                phrase_sets=[
                    cs.SpeechAdaptation.AdaptationPhraseSet(inline_phrase_set=cs.PhraseSet(phrases=phrases))
                ]
            )
        config = cs.RecognitionConfig(
            explicit_decoding_config=cs.ExplicitDecodingConfig(
                encoding=cs.ExplicitDecodingConfig.AudioEncoding.LINEAR16,
                sample_rate_hertz=SAMPLE_RATE,
                audio_channel_count=1,
            ),
            language_codes=[language],
            model=self._settings.google_model,
            features=cs.RecognitionFeatures(enable_automatic_punctuation=True, enable_word_time_offsets=True),
            adaptation=adaptation,
        )
        return cs.StreamingRecognizeRequest(
            recognizer=self.recognizer_path,
            streaming_config=cs.StreamingRecognitionConfig(
                config=config, streaming_features=cs.StreamingRecognitionFeatures(interim_results=True)
            ),
        )

    async def recognize(
        self, requests: AsyncIterator[cs.StreamingRecognizeRequest]
    ) -> AsyncIterator[cs.StreamingRecognizeResponse]:
        responses = await self._client.streaming_recognize(requests=requests)
        async for response in responses:
            yield response

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.transport.close()  # type: ignore[no-untyped-call]


@dataclass
class _Segment:
    """One gRPC stream: its audio starts at ``start`` (session time)."""

    start: float
    # Bounded by ``feed`` (not by the queue), so that the end always fits.
    requests: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    closed: bool = False
    samples: int = 0

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.requests.put_nowait(None)


class GoogleStream:
    busy_seconds = 0.0  # the work is Google's

    def __init__(self, recognizer: GoogleRecognizer, options: StreamOptions) -> None:
        self._recognizer = recognizer
        self._options = options
        self._terms = tuple(options.vocabulary)
        self._captions = CloudCaptions(options.resume)
        self._segments: asyncio.Queue[_Segment | None] = asyncio.Queue()
        self._current = self._new_segment()
        self._rotate_soon = False
        self._finished = False
        self._runner = asyncio.create_task(self._run())

    @property
    def lag_seconds(self) -> float:
        return self._captions.lag_seconds

    async def feed(self, frame: bytes) -> None:
        check_pcm(frame)
        if self._finished or not frame:
            return
        segment = self._current
        heard = segment.samples / SAMPLE_RATE
        due, overdue = heard >= self._recognizer.stream_s, heard >= self._recognizer.stream_s + ROTATE_GRACE_S
        if ((due or self._rotate_soon) and is_quiet(frame)) or overdue:
            segment = self._rotate()
        for offset in range(0, len(frame), MAX_REQUEST_BYTES):
            chunk = frame[offset : offset + MAX_REQUEST_BYTES]
            if segment.requests.qsize() >= MAX_QUEUED_REQUESTS:
                self._captions.fail("Google Speech-to-Text stopped taking audio")
                return
            segment.requests.put_nowait(chunk)
            segment.samples += len(chunk) // BYTES_PER_SAMPLE
        self._captions.fed(frame)

    async def flush(self) -> None:
        if not self._finished and self._current.samples:
            self._rotate()

    async def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._current.close()
            self._segments.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.shield(self._runner)

    def abandon(self) -> None:
        self._finished = True
        self._runner.cancel()
        self._captions.end()

    def events(self) -> AsyncIterator[CaptionEvent]:
        return self._captions.events()

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        self._terms = tuple(terms)
        self._rotate_soon = True

    def _new_segment(self) -> _Segment:
        segment = _Segment(self._captions.position)
        self._segments.put_nowait(segment)
        return segment

    def _rotate(self) -> _Segment:
        self._rotate_soon = False
        self._current.close()
        self._current = self._new_segment()
        return self._current

    async def _run(self) -> None:
        try:
            while (segment := await self._segments.get()) is not None:
                await self._recognize(segment)
            self._captions.end()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            reason = failure_reason(error)
            log.warning("google stream failed: %s", reason)
            self._captions.fail(reason)

    async def _recognize(self, segment: _Segment) -> None:
        # Opened at its first audio, not before: Google ends a stream that waits long for audio (a pause).
        first = await segment.requests.get()
        if first is None:
            return
        language, terms = self._options.language, self._terms

        async def requests() -> AsyncIterator[cs.StreamingRecognizeRequest]:
            yield self._recognizer.config_request(language, terms)
            chunk: bytes | None = first
            while chunk is not None:
                yield cs.StreamingRecognizeRequest(audio=chunk)
                chunk = await segment.requests.get()

        async for response in self._recognizer.recognize(requests()):
            interim: list[str] = []
            interim_end = segment.start
            for result in response.results:
                if not result.alternatives:
                    continue
                best = result.alternatives[0]
                end = segment.start + result.result_end_offset.total_seconds()
                if result.is_final:
                    start = segment.start + best.words[0].start_offset.total_seconds() if best.words else None
                    self._captions.final(best.transcript, start, end)
                else:
                    interim.append(best.transcript.strip())
                    interim_end = max(interim_end, end)
            if interim:
                self._captions.partial(" ".join(interim), interim_end)
        self._captions.done_until(segment.start + segment.samples / SAMPLE_RATE)

"""A local Speech-to-Text v2 service for tests: the real gRPC protocol (``google.cloud.speech.v2.Speech/
StreamingRecognize``, messages from ``google.cloud.speech_v2.types``) served by ``grpc.aio`` on localhost, so the
adapter runs through the real client library. Behind it, the project's own engine recognises the audio, so
results are real words with real times; like Google, each gRPC stream's offsets start at 0.

It records what clients sent (configs, request sizes, audio per stream) and can fail on purpose: after
``fail_after_s`` seconds of audio (counted over all streams) it aborts the stream with ``fail_code``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from google.cloud.speech_v2.types import cloud_speech as cs

from captions.asr.engine import Engine
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.events import CaptionEvent

SERVICE = "google.cloud.speech.v2.Speech"


@dataclass
class Received:
    configs: list[cs.StreamingRecognitionConfig] = field(default_factory=list)
    recognizers: list[str] = field(default_factory=list)
    audio_bytes: list[int] = field(default_factory=list)  # per stream
    largest_request: int = 0
    bad_requests: list[str] = field(default_factory=list)
    idle_streams: int = 0


class FakeSpeech:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.received = Received()
        self.fail_after_s: float | None = None
        self.fail_code = grpc.StatusCode.UNAVAILABLE
        # Like Google, end a stream that waits this long for its first audio (None: wait for ever).
        self.idle_timeout_s: float | None = None
        self._audio_seconds = 0.0
        self._server = grpc.aio.server()
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "StreamingRecognize": grpc.stream_stream_rpc_method_handler(
                    self._streaming_recognize,
                    request_deserializer=cs.StreamingRecognizeRequest.deserialize,
                    response_serializer=cs.StreamingRecognizeResponse.serialize,
                )
            },
        )
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeSpeech:
        await self._server.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._server.stop(grace=None)

    async def _streaming_recognize(
        self,
        requests: AsyncIterator[cs.StreamingRecognizeRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[cs.StreamingRecognizeResponse]:
        first = await anext(requests, None)
        if first is None or not first.streaming_config or first.audio:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first request carries the config")
        assert first is not None
        self.received.configs.append(first.streaming_config)
        self.received.recognizers.append(first.recognizer)
        self.received.audio_bytes.append(0)
        stream = self._engine.open_stream("en", coalesce=False)
        results: asyncio.Queue[CaptionEvent | None] = asyncio.Queue()

        async def read() -> None:
            async for event in stream.events():
                await results.put(event)
            await results.put(None)

        async def feed() -> None:
            pending = aiter(requests)
            try:
                head = await asyncio.wait_for(anext(pending), self.idle_timeout_s)
            except StopAsyncIteration:
                await stream.finish()
                return
            except TimeoutError:
                self.received.idle_streams += 1
                await results.put(None)
                return

            async def rest() -> AsyncIterator[cs.StreamingRecognizeRequest]:
                yield head
                async for more in pending:
                    yield more

            async for request in rest():
                size = len(request.audio)
                self.received.largest_request = max(self.received.largest_request, size)
                if request.streaming_config or request.recognizer:
                    self.received.bad_requests.append("config after the first request")
                self.received.audio_bytes[-1] += size
                self._audio_seconds += size / BYTES_PER_SAMPLE / SAMPLE_RATE
                await stream.feed(request.audio)
                if self.fail_after_s is not None and self._audio_seconds >= self.fail_after_s:
                    await results.put(None)
                    return
            await stream.finish()

        reader, feeder = asyncio.create_task(read()), asyncio.create_task(feed())
        try:
            while (event := await results.get()) is not None:
                if event.kind != "settled":
                    yield response(event)
            if self.fail_after_s is not None and self._audio_seconds >= self.fail_after_s:
                await context.abort(self.fail_code, "the fake service fails on purpose")
            if self.received.idle_streams:
                await context.abort(
                    grpc.StatusCode.OUT_OF_RANGE, "Audio Timeout Error: no audio for too long"
                )
        finally:
            for task in (reader, feeder):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            stream.abandon()


def response(event: CaptionEvent) -> cs.StreamingRecognizeResponse:
    words = [
        cs.WordInfo(
            word=word.text.strip(),
            start_offset=timedelta(seconds=word.start),
            end_offset=timedelta(seconds=word.end),
        )
        for word in event.words
    ]
    final = event.kind == "final"
    result = cs.StreamingRecognitionResult(
        alternatives=[cs.SpeechRecognitionAlternative(transcript=event.text, words=words if final else [])],
        is_final=final,
        stability=0.0 if final else 0.5,
        result_end_offset=timedelta(seconds=event.end if final else event.audio_position),
    )
    return cs.StreamingRecognizeResponse(results=[result])

"""A local Azure Speech service for tests: the WebSocket protocol the real Speech SDK speaks to a Speech
container (``CAPTIONS_AZURE_SPEECH_HOST``), served on localhost, so the adapter runs through the real SDK.

The SDK sends ``speech.config`` and ``speech.context`` (language in the URL, the phrase list in ``dgi``) as text
messages and the audio as binary ones (a 2-byte header length, headers, then a WAV header and PCM); the service
answers ``turn.start``, ``speech.startDetected``, ``speech.hypothesis`` and ``speech.phrase`` (offsets and
durations in 100 ns ticks from the start of the audio), ``speech.endDetected`` and ``turn.end``. Behind it, the
project's own engine recognises the audio, so results are real words with real times.

It records what clients sent and can fail on purpose: refuse the key (HTTP 401), or drop the connection with
an error after ``fail_after_s`` seconds of audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from captions.asr.engine import Engine
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.events import CaptionEvent

TICKS = 10_000_000
WAV_HEADER_BYTES = 44


@dataclass
class Received:
    languages: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    audio_bytes: int = 0
    connections: int = 0


class FakeAzureSpeech:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.received = Received()
        self.refuse_key = False
        self.fail_after_s: float | None = None
        self._server: Server | None = None

    @property
    def host(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aenter__(self) -> FakeAzureSpeech:
        self._server = await serve(self._session, "127.0.0.1", 0, process_request=self._handshake)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.refuse_key:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "key refused\n")
        return None

    async def _session(self, connection: ServerConnection) -> None:
        self.received.connections += 1
        assert connection.request is not None
        query = parse_qs(urlparse(connection.request.path).query)
        self.received.languages.append(query.get("language", [""])[0])
        stream = self._engine.open_stream("en", coalesce=False)
        request_id = ""
        heard = 0.0
        started = False

        async def send(path: str, body: dict[str, Any]) -> None:
            text = f"X-RequestId:{request_id}\r\nPath:{path}\r\nContent-Type:application/json; charset=utf-8\r\n\r\n"
            await connection.send(text + json.dumps(body))

        async def answer() -> None:
            async for event in stream.events():
                if event.kind != "settled":
                    await send(*message(event))
            # Continuous recognition ends with EndOfDictation over all the audio heard: the SDK learns that
            # nothing is left to resend.
            await send("speech.phrase", {"RecognitionStatus": "EndOfDictation", "Offset": round(heard * TICKS),
                                         "Duration": 0})  # fmt: skip
            await send("speech.endDetected", {"Offset": round(heard * TICKS)})
            await send("turn.end", {})

        answering: asyncio.Task[None] | None = None
        try:
            async for raw in connection:
                if isinstance(raw, str):
                    headers, _, body = raw.partition("\r\n\r\n")
                    fields = dict(line.split(":", 1) for line in headers.split("\r\n") if ":" in line)
                    request_id = fields.get("X-RequestId", request_id)
                    if fields.get("Path") == "speech.context":
                        groups = json.loads(body).get("dgi", {}).get("Groups", [])
                        self.received.phrases.append([item["Text"] for g in groups for item in g["Items"]])
                    continue
                (size,) = struct.unpack(">H", raw[:2])
                headers = raw[2 : 2 + size].decode()
                request_id = next(
                    (h.split(":", 1)[1] for h in headers.split("\r\n") if h.startswith("X-RequestId:")),
                    request_id,
                )
                audio = raw[2 + size :]
                if audio.startswith(b"RIFF"):
                    audio = audio[WAV_HEADER_BYTES:]
                if not started:
                    started = True
                    await send("turn.start", {"context": {"serviceTag": uuid.uuid4().hex}})
                    answering = asyncio.create_task(answer())
                if not audio and not raw[2 + size :]:
                    # The end of the audio: the rest is said, then turn.end; the client closes the connection.
                    await stream.finish()
                    if answering is not None:
                        await answering
                    continue
                self.received.audio_bytes += len(audio)
                heard += len(audio) / BYTES_PER_SAMPLE / SAMPLE_RATE
                await stream.feed(audio)
                if (
                    self.fail_after_s is not None
                    and self.received.audio_bytes >= self.fail_after_s * SAMPLE_RATE * BYTES_PER_SAMPLE
                ):
                    await connection.close(1011, "the fake service fails on purpose")
                    return
        finally:
            if answering is not None:
                answering.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    if answering is not None:
                        await answering
            stream.abandon()


def message(event: CaptionEvent) -> tuple[str, dict[str, Any]]:
    offset = round(event.start * TICKS)
    if event.kind == "final":
        duration = round((event.end - event.start) * TICKS)
        return "speech.phrase", {"RecognitionStatus": "Success", "DisplayText": event.text, "Offset": offset,
                                 "Duration": duration}  # fmt: skip
    duration = round((event.audio_position - event.start) * TICKS)
    return "speech.hypothesis", {"Text": event.text, "Offset": offset, "Duration": duration}

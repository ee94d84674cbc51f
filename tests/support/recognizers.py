"""Every recogniser of the protocol, each as a test reaches it: the local engine, and the cloud ones through
their real client libraries against local fakes of their services (``fake_google``, ``fake_azure``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from captions.asr.engine import Engine
from captions.recognizers.azure import AzureRecognizer
from captions.recognizers.base import Recognizer, RecognizerFailed, RecognizerStream
from captions.recognizers.events import CaptionEvent
from captions.recognizers.google import GoogleRecognizer
from captions.recognizers.local import LocalRecognizer
from captions.settings import Settings
from tests.support.fake_azure import FakeAzureSpeech
from tests.support.fake_google import FakeSpeech
from tests.support.harness import pcm_frames

RECOGNIZERS = ("local", "google", "azure")
LANGUAGE = {"local": "en", "google": "en-US", "azure": "en-US"}


@contextlib.asynccontextmanager
async def reach(name: str, engine: Engine, fail_after_s: float | None = None) -> AsyncIterator[Recognizer]:
    """The recogniser ``name``, with its fake service running where it has one (failing after
    ``fail_after_s`` seconds of audio, if given)."""
    if name == "local":
        yield LocalRecognizer(engine)
    elif name == "google":
        async with FakeSpeech(engine) as fake:
            fake.fail_after_s = fail_after_s
            google = GoogleRecognizer(Settings(google_project="test-project", google_endpoint=fake.endpoint))
            try:
                yield google
            finally:
                await google.close()
    else:
        async with FakeAzureSpeech(engine) as azure_fake:
            azure_fake.fail_after_s = fail_after_s
            yield AzureRecognizer(Settings(azure_speech_host=azure_fake.host))


@dataclass
class Heard:
    """What a stream said, in order; ``failure`` when it ended by failing."""

    events: list[CaptionEvent] = field(default_factory=list)
    failure: RecognizerFailed | None = None

    @property
    def finals(self) -> list[CaptionEvent]:
        return [e for e in self.events if e.kind == "final"]

    @property
    def text(self) -> str:
        return " ".join(e.text for e in self.finals)


async def listen(stream: RecognizerStream, heard: Heard) -> None:
    try:
        async for event in stream.events():
            heard.events.append(event)
    except RecognizerFailed as failure:
        heard.failure = failure


async def recognise(stream: RecognizerStream, frames: Sequence[bytes]) -> Heard:
    """Feed every frame as fast as the stream takes them, then finish; everything it said."""
    heard = Heard()
    listening = asyncio.create_task(listen(stream, heard))
    for frame in frames:
        await stream.feed(frame)
    await stream.finish()
    await asyncio.wait_for(listening, 60)
    return heard


def frames_of(path: Path) -> list[bytes]:
    return pcm_frames(path)

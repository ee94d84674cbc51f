"""What the cloud recognisers share: caption events from a service's interim and final results, in session
time, numbered as the protocol wants, and told to the transcriber through one bounded queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np

from captions.audio.pcm import AudioFormatError
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE
from captions.recognizers.base import RecognizerFailed, Resume
from captions.recognizers.events import CaptionEvent, CaptionKind

# A service says nothing in silence. With no words pending, and nothing from the service for this long (of audio
# and of time: audio fed faster than real time is not silence), the audio before it is settled, so the
# transcriber can let go of it; a service answers speech within a second or two.
SILENCE_SETTLES_S = 10.0
# Events waiting for the transcriber at most: a service sends a few per second, the transcriber takes them at
# once; past this, something is stuck and the stream fails rather than grow.
MAX_PENDING_EVENTS = 10_000
# Below this RMS (of full scale) a frame is quiet enough to cut a stream between words.
QUIET_RMS = 0.01
# A stream told there is no more audio has finalised it within this long, or it has failed.
FINISH_TIMEOUT_S = 30.0


def check_pcm(frame: bytes) -> None:
    if len(frame) % BYTES_PER_SAMPLE:
        raise AudioFormatError("bad_frame_length", "PCM16 audio holds whole 2-byte samples")


def is_quiet(frame: bytes) -> bool:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
    return not len(samples) or float(np.sqrt(np.mean(samples * samples))) < QUIET_RMS


class CloudCaptions:
    """Events of one stream. ``resume.at`` is the session time of the first audio fed; finals that end before
    ``resume.committed_end`` were final before (a resumed session) and are not said again."""

    def __init__(self, resume: Resume) -> None:
        self._resume = resume
        self.fed_samples = 0
        # Bounded by ``_put`` (not by the queue), so that the end or a failure always fits.
        self._queue: asyncio.Queue[CaptionEvent | RecognizerFailed | None] = asyncio.Queue()
        self._next_id = 0
        self._last_end = resume.committed_end
        self._partial = ""
        self._settled = resume.at
        self._answered = resume.at  # session time the service last spoke of
        self._heard_from = time.monotonic()  # when it last did
        self._done = False
        self._over = asyncio.Event()

    @property
    def position(self) -> float:
        """Session time of the end of the audio fed."""
        return self._resume.at + self.fed_samples / SAMPLE_RATE

    @property
    def over(self) -> bool:
        """The stream has ended or failed: nothing more comes from it."""
        return self._done

    @property
    def lag_seconds(self) -> float:
        """Audio fed that no result speaks of yet (while words are pending; silence is not lag)."""
        return max(0.0, self.position - self._answered) if self._partial else 0.0

    def fed(self, frame: bytes) -> None:
        self.fed_samples += len(frame) // BYTES_PER_SAMPLE
        quiet_for = time.monotonic() - self._heard_from
        if (
            not self._partial
            and quiet_for > SILENCE_SETTLES_S
            and self.position - self._settled > SILENCE_SETTLES_S
        ):
            self._settle(self.position - SILENCE_SETTLES_S)

    def partial(self, text: str, end: float) -> None:
        text = text.strip()
        self._answered = max(self._answered, end)
        self._heard_from = time.monotonic()
        if text == self._partial:
            return
        self._partial = text
        self._put("partial", text, self._last_end, max(end, self._last_end))

    def final(self, text: str, start: float | None, end: float) -> None:
        """``start`` None: the service gave no word times; the final starts where the last one ended."""
        text = text.strip()
        self._answered = max(self._answered, end)
        self._heard_from = time.monotonic()
        self._partial = ""
        if not text or end <= self._resume.committed_end:
            self._settle(end)
            return
        begin = self._last_end if start is None else max(start, self._last_end)
        self._last_end = max(end, begin)
        self._settled = max(self._settled, self._last_end)
        self._put("final", text, begin, self._last_end)
        self._next_id += 1

    def done_until(self, seconds: float) -> None:
        """The service has said all it will of the audio before ``seconds`` (its stream ended there)."""
        self._partial = ""
        self._answered = max(self._answered, seconds)
        self._settle(seconds)

    def fail(self, reason: str) -> None:
        if not self._done:
            self._done = True
            self._over.set()
            self._queue.put_nowait(RecognizerFailed(reason))

    def end(self) -> None:
        if not self._done:
            self._done = True
            self._over.set()
            self._queue.put_nowait(None)

    async def ended(self) -> None:
        """Wait until the stream has ended or failed; one that does neither in time has failed."""
        try:
            await asyncio.wait_for(self._over.wait(), FINISH_TIMEOUT_S)
        except TimeoutError:
            self.fail("the service did not finish the stream in time")

    async def events(self) -> AsyncIterator[CaptionEvent]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, RecognizerFailed):
                raise item
            yield item

    def _settle(self, seconds: float) -> None:
        if seconds > self._settled + 1e-6:
            self._settled = seconds
            self._put("settled", "", seconds, seconds)

    def _put(self, kind: CaptionKind, text: str, start: float, end: float) -> None:
        if self._done:
            return
        if self._queue.qsize() >= MAX_PENDING_EVENTS:
            self.fail("the transcriber fell behind the service's results")
            return
        event = CaptionEvent(kind, self._next_id, text, start, end, (), self.position, self._settled)
        self._queue.put_nowait(event)

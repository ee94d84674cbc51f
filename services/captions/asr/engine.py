"""The shared recognition engine: one model, one pool of inference threads, any number of live streams."""

from __future__ import annotations

from collections.abc import Sequence

from faster_whisper import WhisperModel
from threadpoolctl import threadpool_limits

from captions.asr.decoder import WindowDecoder
from captions.asr.model import load_model
from captions.asr.scheduler import DecodeScheduler
from captions.asr.session import RecognizerSession
from captions.asr.streaming import StreamingRecognizer
from captions.recognizers.events import Resume
from captions.settings import Settings


class Engine:
    """CTranslate2 runs ``num_workers`` calls in parallel on one model and releases the GIL while it does;
    the scheduler has as many threads, so inference never runs on (or blocks) the event loop."""

    def __init__(self, settings: Settings, model: WhisperModel | None = None) -> None:
        # numpy's BLAS only computes log-mel spectrograms here; its spinning worker threads doubled the CPU
        # time of every decode. Parallelism comes from CTranslate2's workers instead.
        threadpool_limits(limits=1, user_api="blas")
        self.settings = settings
        self.model = model or load_model(settings)
        self._scheduler = DecodeScheduler(settings.num_workers)
        self._decoders: dict[str, WindowDecoder] = {}

    def decoder(self, language: str | None = None) -> WindowDecoder:
        key = language or self.settings.language
        if key not in self._decoders:
            self._decoders[key] = WindowDecoder(self.model, self.settings, key)
        return self._decoders[key]

    def open_stream(
        self,
        language: str | None = None,
        *,
        coalesce: bool = True,
        resume: Resume | None = None,
        settle_marks: bool = False,
        vocabulary: Sequence[str] = (),
    ) -> RecognizerSession:
        recognizer = StreamingRecognizer(
            self.decoder(language),
            self.settings,
            resume=resume,
            vocabulary=vocabulary,
            load=(lambda: self._scheduler.backlog) if coalesce else None,
        )
        return RecognizerSession(recognizer, self._scheduler, coalesce=coalesce, settle_marks=settle_marks)

    def close(self) -> None:
        self._scheduler.shutdown()

"""``local``: the faster-whisper streaming engine of this server (the default; nothing leaves the machine)."""

from __future__ import annotations

from captions.asr.engine import Engine
from captions.recognizers.base import RecognizerStream, StreamOptions


class LocalRecognizer:
    name = "local"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine  # owned by whoever composed the server: it closes it

    def open_stream(self, options: StreamOptions) -> RecognizerStream:
        return self._engine.open_stream(
            options.language, resume=options.resume, settle_marks=True, vocabulary=options.vocabulary
        )

    async def close(self) -> None:
        return None

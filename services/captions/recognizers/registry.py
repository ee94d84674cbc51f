"""The recognisers one transcriber has, and a room's stream on the one it asked for: a cloud one with the local
model behind it (``fallback.py``), the local one alone otherwise."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from captions.recognizers.base import Recognizer, RecognizerStream, Resume, StreamOptions
from captions.recognizers.catalog import configured, resolve_language
from captions.recognizers.fallback import FallbackStream
from captions.settings import Settings

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class Recognizers:
    def __init__(self, settings: Settings, local: Recognizer, cloud: Sequence[Recognizer] = ()) -> None:
        self._settings = settings
        self._local = local
        self._cloud = {recognizer.name: recognizer for recognizer in cloud}

    @classmethod
    def from_settings(cls, settings: Settings, local: Recognizer) -> Recognizers:
        """The local recogniser and every cloud one the settings configure (their SDKs load only then)."""
        cloud: list[Recognizer] = []
        names = configured(settings)
        if "azure" in names:
            from captions.recognizers.azure import AzureRecognizer

            cloud.append(AzureRecognizer(settings))
        if "google" in names:
            from captions.recognizers.google import GoogleRecognizer

            cloud.append(GoogleRecognizer(settings))
        return cls(settings, local, cloud)

    def open_stream(
        self, recognizer: str, language: str, vocabulary: Sequence[str], resume: Resume, on_fallback: Notify
    ) -> tuple[RecognizerStream, str | None]:
        """The room's stream, and why it is not on ``recognizer`` (None when it is)."""
        local_language = resolve_language(self._settings, "local", language)
        local_options = StreamOptions(local_language or language, tuple(vocabulary), resume)
        cloud = self._cloud.get(recognizer)
        cloud_language = resolve_language(self._settings, recognizer, language) if cloud else None
        if cloud is None or cloud_language is None:
            why = None if recognizer == "local" else f"the recogniser {recognizer!r} is not configured here"
            return self._local.open_stream(local_options), why
        options = replace(local_options, language=cloud_language)
        local = self._local

        def open_local(at: StreamOptions) -> RecognizerStream:
            return local.open_stream(replace(at, language=local_options.language))

        primary = cloud.open_stream(options)
        fallback = open_local if local_language is not None else None
        return FallbackStream(primary, fallback, options, on_fallback), None

    async def close(self) -> None:
        for recognizer in self._cloud.values():
            await recognizer.close()

"""The real Whisper model with its CTranslate2 calls watched: how many encodes, and the beam of each search."""

from __future__ import annotations

import copy
from typing import Any

from faster_whisper import WhisperModel


class WatchedModel:
    """The CTranslate2 model, each ``encode`` counted and each ``generate``'s ``beam_size`` kept."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.encodes = 0
        self.beams: list[int] = []

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.encodes += 1
        return self._model.encode(*args, **kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.beams.append(kwargs["beam_size"])
        return self._model.generate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def watched(whisper: WhisperModel) -> tuple[WhisperModel, WatchedModel]:
    """A copy of ``whisper`` whose CTranslate2 calls are watched (the shared model stays as it is)."""
    copied = copy.copy(whisper)
    calls = copied.model = WatchedModel(whisper.model)
    return copied, calls

"""Streaming voice activity detection with the Silero model that faster-whisper ships.

faster-whisper runs Silero over a whole file; live audio needs the same network fed window by window, with its
recurrent state and 64-sample context carried from one call to the next. Windows are 512 samples (32 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from captions.audio.pcm import Audio

WINDOW = 512
CONTEXT = 64


def _silero_session() -> object:
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session


@dataclass
class SpeechProbabilities:
    """Probabilities for consecutive 32 ms windows; ``first_window`` is the index of the first one."""

    first_window: int
    values: npt.NDArray[np.float32]


@dataclass
class StreamingVad:
    """Speech probability per window for audio pushed in pieces of any size (shares one ONNX session)."""

    session: object = field(default_factory=_silero_session)
    _state: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    _cell: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    _context: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(CONTEXT, np.float32))
    _pending: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    _warm_up: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    _windows_done: int = 0

    def push(self, audio: Audio) -> SpeechProbabilities:
        self._warm()
        data = np.concatenate([self._pending, audio]) if len(self._pending) else audio
        whole = len(data) // WINDOW * WINDOW
        self._pending = data[whole:].copy()
        first = self._windows_done
        if not whole:
            return SpeechProbabilities(first, np.zeros(0, np.float32))
        windows = data[:whole].reshape(-1, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]], axis=0)
        self._context = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1).astype(np.float32, copy=False)
        run = self.session.run  # type: ignore[attr-defined]
        out, self._state, self._cell = run(None, {"input": batch, "h": self._state, "c": self._cell})
        self._windows_done += len(windows)
        return SpeechProbabilities(first, np.asarray(out, np.float32).reshape(-1))

    def restart(self, window: int, warm_up: Audio) -> None:
        """Forget everything heard and continue at window number ``window``, after ``warm_up`` (silence): two
        detectors restarted at the same sample then say the same of what follows, whatever each heard before.
        The warm-up is heard with the next audio pushed: a stream opens on the event loop, which should not run
        the network, and a talk of browser-recognised text never needs it."""
        self._state = np.zeros_like(self._state)
        self._cell = np.zeros_like(self._cell)
        self._context = np.zeros(CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._warm_up = warm_up[: len(warm_up) // WINDOW * WINDOW]
        self._windows_done = window

    def _warm(self) -> None:
        if len(self._warm_up):
            warm_up, self._warm_up = self._warm_up, np.zeros(0, np.float32)
            window = self._windows_done
            self.push(warm_up)
            self._windows_done = window

"""The streaming voice detector's warm-up: heard with the first audio, off the event loop that opens a stream."""

from __future__ import annotations

from typing import Any

import numpy as np

from captions.audio.pcm import load_audio
from captions.audio.vad import WINDOW, StreamingVad
from captions.protocol import SAMPLE_RATE
from tests.support.speech import SHIPPED_AUDIO_DIR


class CountedRuns:
    """The Silero session, counting its runs."""

    def __init__(self) -> None:
        self.inner: Any = StreamingVad().session
        self.runs = 0

    def run(self, outputs: Any, inputs: dict[str, Any]) -> Any:
        self.runs += 1
        return self.inner.run(outputs, inputs)


def test_a_restart_runs_nothing_until_audio_comes_and_then_hears_as_a_detector_warmed_at_once() -> None:
    speech = load_audio(SHIPPED_AUDIO_DIR / "jfk.wav")[: 3 * SAMPLE_RATE]
    silence = np.zeros(SAMPLE_RATE // WINDOW * WINDOW, np.float32)

    warmed_at_once = StreamingVad()
    warmed_at_once.push(silence)
    expected = warmed_at_once.push(speech).values

    counted = CountedRuns()
    vad = StreamingVad(session=counted)
    vad.restart(0, silence)
    assert counted.runs == 0  # a stream opening (on the event loop), or one that only ever gets text

    heard = vad.push(speech)
    assert heard.first_window == 0  # the warm-up is not counted as windows of the talk
    assert len(heard.values) == len(speech) // WINDOW
    np.testing.assert_allclose(heard.values, expected, atol=1e-6)
    assert vad.push(speech).first_window == len(speech) // WINDOW

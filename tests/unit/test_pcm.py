from __future__ import annotations

import numpy as np
import pytest

from captions.audio.pcm import AudioFormatError, float32_to_pcm16, pcm16_to_float32, split_frames


def test_pcm16_round_trip_keeps_samples() -> None:
    audio = np.array([0.0, 0.5, -0.5, 0.999, -1.0], np.float32)
    back = pcm16_to_float32(float32_to_pcm16(audio))
    assert np.allclose(back, audio, atol=1 / 16384)


def test_pcm16_is_little_endian() -> None:
    assert pcm16_to_float32(b"\x00\x40")[0] == pytest.approx(0.5)


def test_empty_frame_is_no_samples() -> None:
    assert len(pcm16_to_float32(b"")) == 0


def test_odd_length_frame_is_refused_with_a_code() -> None:
    with pytest.raises(AudioFormatError) as error:
        pcm16_to_float32(b"\x00\x01\x02")
    assert error.value.code == "bad_frame_length"


def test_split_frames_covers_everything_once() -> None:
    audio = np.arange(16_050, dtype=np.float32)
    frames = list(split_frames(audio, 0.1))
    assert [len(f) for f in frames] == [1600] * 10 + [50]
    assert np.array_equal(np.concatenate(frames), audio)

"""The one audio format inside the product: 16 kHz mono float32, converted from PCM16 or files at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE, ErrorCode

Audio = npt.NDArray[np.float32]


class AudioFormatError(ValueError):
    """A frame that is not PCM16LE mono; ``code`` is the machine-readable reason sent back to clients."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def pcm16_to_float32(frame: bytes) -> Audio:
    """Decode PCM16LE bytes; an empty frame is valid (no samples), an odd length is not."""
    if len(frame) % BYTES_PER_SAMPLE:
        raise AudioFormatError(
            "bad_frame_length", f"PCM16 frames hold whole 2-byte samples; got {len(frame)} bytes"
        )
    samples = np.frombuffer(frame, dtype="<i2")
    return (samples.astype(np.float32) / 32768.0).astype(np.float32, copy=False)


def float32_to_pcm16(audio: Audio) -> bytes:
    clipped = np.clip(audio, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def load_audio(path: str | Path) -> Audio:
    """Any container/codec/rate PyAV can read, as 16 kHz mono float32."""
    import av
    from faster_whisper import decode_audio

    try:
        audio: Audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE).astype(np.float32, copy=False)
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioFormatError("unreadable_audio", f"cannot read audio from {path}: {exc}") from exc
    return audio


def split_frames(audio: Audio, frame_s: float) -> Iterator[Audio]:
    step = max(1, round(frame_s * SAMPLE_RATE))
    for start in range(0, len(audio), step):
        yield audio[start : start + step]

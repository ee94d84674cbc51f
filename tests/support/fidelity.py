"""How faithfully one recording of a signal reproduces another: what the microphone path does to the audio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from captions.audio.pcm import Audio
from captions.protocol import SAMPLE_RATE

# Compared below this: the capture's low-pass keeps 7.2 kHz, and speech above it barely matters to Whisper.
BAND_HZ = 7000.0


@dataclass(frozen=True)
class Fidelity:
    delay_s: float  # where the recording starts in the copy
    gain_db: float  # the copy's level against the recording's (least squares)
    # The recording's power over the power of what differs, in the band, once aligned and scaled.
    snr_db: float
    covered_s: float  # how much of the recording the copy holds


def _shifted(audio: Audio, samples: float) -> Audio:
    """``audio`` delayed by a fraction of a sample too (a phase ramp in the frequency domain)."""
    spectrum = np.fft.rfft(audio)
    frequencies = np.fft.rfftfreq(len(audio))
    return np.fft.irfft(spectrum * np.exp(-2j * np.pi * frequencies * samples), len(audio)).astype(np.float32)


def _band(audio: Audio) -> Audio:
    spectrum = np.fft.rfft(audio)
    spectrum[np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE) > BAND_HZ] = 0
    return np.fft.irfft(spectrum, len(audio)).astype(np.float32)


def fidelity(recording: Audio, copy: Audio) -> Fidelity:
    """Align ``copy`` on ``recording`` (to a fraction of a sample), fit its gain, and measure what differs."""
    size = 1 << int(np.ceil(np.log2(len(recording) + len(copy))))
    correlation = np.fft.irfft(np.fft.rfft(copy, size) * np.conj(np.fft.rfft(recording, size)), size)
    index = int(np.argmax(correlation))
    before, peak, after = correlation[index - 1], correlation[index], correlation[(index + 1) % size]
    fraction = 0.5 * (before - after) / (before - 2 * peak + after)
    lag = index if index < size // 2 else index - size  # negative: the copy missed the recording's start
    skipped = max(0, -lag)
    covered = min(len(recording) - skipped, len(copy) - max(lag, 0))
    original = _band(_shifted(recording[skipped : skipped + covered], fraction))
    heard = _band(copy[max(lag, 0) : max(lag, 0) + covered])
    gain = float(np.dot(heard, original) / np.dot(original, original))
    residual = heard - gain * original
    snr = 10 * np.log10(float(np.dot(original, original)) * gain**2 / float(np.dot(residual, residual)))
    return Fidelity((lag + fraction) / SAMPLE_RATE, 20 * np.log10(abs(gain)), snr, covered / SAMPLE_RATE)


def fidelity_by_second(recording: Audio, copy: Audio, whole: Fidelity) -> list[Fidelity]:
    """``fidelity`` of each second of speech, each aligned on its own near where ``whole`` (the copy's
    ``fidelity`` as one piece) placed it: a capture device that drops or repeats a few milliseconds under load
    (Chromium's fake microphone does) moves what follows, which one alignment for the whole copy would count as
    a difference everywhere after it."""
    start = round(whole.delay_s * SAMPLE_RATE)
    margin = SAMPLE_RATE // 10  # how far a second may have moved
    seconds: list[Fidelity] = []
    for at in range(0, len(recording) - SAMPLE_RATE + 1, SAMPLE_RATE):
        piece = recording[at : at + SAMPLE_RATE]
        if float(np.sqrt(np.mean(piece**2))) < 0.01:  # a pause: nothing to compare
            continue
        lo = max(0, start + at - margin)
        window = copy[lo : start + at + SAMPLE_RATE + margin]
        if len(window) < SAMPLE_RATE:
            continue
        seconds.append(fidelity(piece, window))
    return seconds

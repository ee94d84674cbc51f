"""Whole-file transcription with faster-whisper's own pipeline: the accuracy and cost floor for streaming."""

from __future__ import annotations

from faster_whisper import WhisperModel

from captions.audio.pcm import Audio
from captions.recognizers.events import Word
from captions.settings import Settings

OFFLINE_BEAM_SIZE = 5


def transcribe_offline(model: WhisperModel, settings: Settings, audio: Audio) -> list[list[Word]]:
    """Whisper's segments (lists of timed words), decoded with 30 s windows, beam search and Silero VAD."""
    language = settings.language if model.model.is_multilingual else "en"
    segments, _info = model.transcribe(
        audio, language=language, beam_size=OFFLINE_BEAM_SIZE, word_timestamps=True, vad_filter=True
    )
    return [
        [Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in segment.words or []]
        for segment in segments
    ]

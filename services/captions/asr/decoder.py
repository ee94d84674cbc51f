"""One Whisper pass over a window of audio, with an encoder window sized to the audio instead of 30 s.

faster-whisper pads every window to 30 s, and the encoder dominates the cost. Whisper needs a silent tail after
the audio and a minimum window, or the decoder loops; a floor (``window_floor_s``) plus a tail pad
(``window_tail_s``) gives the same words as the 30 s window at a fraction of the cost. A window that still comes
out repetitive is decoded again with the full 30 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ctranslate2 import StorageView
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_compression_ratio, get_ctranslate2_storage

from captions.asr.words import heard_part, repeats_itself
from captions.audio.pcm import Audio
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import Word, normalise
from captions.settings import Settings

FULL_WINDOW_FRAMES = 3000
FRAMES_PER_SECOND = 100
# Whisper speaks about 3 tokens a second; far more than this is the decoder repeating itself.
TOKENS_PER_SECOND_CAP = 12
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"  # noqa: RUF001 (Whisper's own CJK set)


@dataclass(frozen=True)
class DecodeResult:
    """``looped``: the short window came out repetitive and was not retried; ``words`` is then empty."""

    words: list[Word]
    looped: bool = False
    prompt_dropped: bool = False  # the prompt made the decoder loop; the words come from a decode without it


class WindowDecoder:
    """Decodes one window synchronously (call it from a worker thread); thread-safe, holds no stream state."""

    def __init__(self, model: WhisperModel, settings: Settings, language: str | None = None) -> None:
        self._model = model
        self._settings = settings
        multilingual = bool(model.model.is_multilingual)
        lang = (language or settings.language) if multilingual else "en"
        self._tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=lang)

    def decode(
        self,
        audio: Audio,
        offset_s: float = 0.0,
        prompt: str = "",
        *,
        retry_loops: bool = True,
        hotwords: str = "",
        beam_size: int | None = None,
    ) -> DecodeResult:
        """Words in ``audio`` with times shifted by ``offset_s``; ``prompt`` is earlier text for context,
        ``hotwords`` the talk's own terms (they come before the prompt and stay when a loop drops it).

        A repetitive short-window result is decoded again with the full window when ``retry_loops``; a caller
        that will decode again soon anyway passes False and just skips that hypothesis. ``beam_size`` overrides
        the settings' beam for this window.
        """
        if len(audio) < SAMPLE_RATE // 10:
            return DecodeResult([])
        features = self._model.feature_extractor(audio, padding=160)
        content_frames = features.shape[-1] - 1
        short = self._encode(features, content_frames, self._window_frames(content_frames))
        beam = beam_size or self._settings.beam_size
        words = self._decode_window(short, content_frames, prompt, hotwords, beam)
        prompt_dropped = words is None and bool(prompt)
        if prompt_dropped:
            # Nearly every loop on a short window follows a prompt (the talk's own recurring sentences invite
            # Whisper to go on repeating): the same window without it is the cheap second try, and it reuses
            # the window's encoding (a third of a decode's cost).
            words = self._decode_window(short, content_frames, "", hotwords, beam)
        if words is not None:
            return DecodeResult(self._shift(words, offset_s), prompt_dropped=prompt_dropped)
        if not retry_loops:
            return DecodeResult([], looped=True)
        full = self._encode(features, content_frames, FULL_WINDOW_FRAMES)
        words = self._decode_window(full, content_frames, prompt, hotwords, beam, full_window=True) or []
        return DecodeResult(self._shift(words, offset_s))

    def _encode(self, features: np.ndarray[Any, Any], content_frames: int, window_frames: int) -> StorageView:
        padded = np.zeros((features.shape[0], window_frames), np.float32)
        usable = min(content_frames, window_frames)
        padded[:, :usable] = features[:, :usable]
        return self._model.model.encode(get_ctranslate2_storage(padded[None]))

    def _window_frames(self, content_frames: int) -> int:
        floor = round(self._settings.window_floor_s * FRAMES_PER_SECOND)
        tail = round(self._settings.window_tail_s * FRAMES_PER_SECOND)
        return min(FULL_WINDOW_FRAMES, max(floor, content_frames + tail))

    def _options(self, prompt: str, content_frames: int, beam_size: int) -> TranscriptionOptions:
        s = self._settings
        return TranscriptionOptions(
            beam_size=beam_size,
            best_of=1,
            patience=1.0,
            length_penalty=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            log_prob_threshold=s.log_prob_threshold,
            no_speech_threshold=s.no_speech_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            condition_on_previous_text=False,
            prompt_reset_on_temperature=0.5,
            temperatures=[0.0],
            initial_prompt=prompt or None,
            prefix=None,
            suppress_blank=True,
            suppress_tokens=[-1],
            without_timestamps=False,
            max_initial_timestamp=1.0,
            word_timestamps=True,
            prepend_punctuations=PREPEND_PUNCTUATIONS,
            append_punctuations=APPEND_PUNCTUATIONS,
            multilingual=False,
            max_new_tokens=10 + TOKENS_PER_SECOND_CAP * content_frames // FRAMES_PER_SECOND,
            clip_timestamps=[0.0],
            hallucination_silence_threshold=None,
            hotwords=None,
        )

    def _decode_window(
        self,
        encoder_output: StorageView,
        content_frames: int,
        prompt: str,
        hotwords: str,
        beam_size: int,
        *,
        full_window: bool = False,
    ) -> list[Word] | None:
        """Words, or None when the output looks like a decoder loop (so the caller can retry wider)."""
        model, tokenizer = self._model, self._tokenizer
        options = self._options(prompt, content_frames, beam_size)

        prompt_tokens = tokenizer.encode(" " + prompt.strip()) if prompt else []
        prompt_ids = model.get_prompt(tokenizer, prompt_tokens, hotwords=hotwords or None)
        result, avg_logprob, _temperature, _ratio = model.generate_with_fallback(
            encoder_output, prompt_ids, tokenizer, options
        )
        if result.no_speech_prob > options.no_speech_threshold and avg_logprob < options.log_prob_threshold:
            return []
        tokens: list[int] = list(result.sequences_ids[0])
        text = tokenizer.decode([t for t in tokens if t < tokenizer.eot]).strip()
        if not text:
            return []
        looped = len(tokens) >= (options.max_new_tokens or len(tokens) + 1) or repeats_itself(
            normalise(text).split()
        )
        if looped or get_compression_ratio(text) > options.compression_ratio_threshold:
            return [] if full_window else None
        segments = self._segments(tokens, content_frames)
        model.add_word_timestamps(
            [segments],
            tokenizer,
            encoder_output,
            content_frames,
            options.prepend_punctuations,
            options.append_punctuations,
            last_speech_timestamp=0.0,
        )
        return heard_part(
            [
                Word(
                    text=w["word"],
                    start=float(w["start"]),
                    end=float(w["end"]),
                    probability=float(w["probability"]),
                )
                for segment in segments
                for w in segment.get("words", [])
            ]
        )

    def _segments(self, tokens: list[int], content_frames: int) -> list[dict[str, Any]]:
        """Whisper's timestamp segments, keeping the unfinished last one that offline decoding drops."""
        duration = content_frames / FRAMES_PER_SECOND
        segments, _seek, single_ending = self._model._split_segments_by_timestamps(
            tokenizer=self._tokenizer,
            tokens=tokens,
            time_offset=0.0,
            segment_size=content_frames,
            segment_duration=duration,
            seek=0,
        )
        covered = sum(len(s["tokens"]) for s in segments)
        tail = tokens[covered:]
        if tail and not single_ending and any(t < self._tokenizer.eot for t in tail):
            start = segments[-1]["end"] if segments else 0.0
            segments.append({"seek": 0, "start": start, "end": duration, "tokens": tail})
        return [s for s in segments if any(t < self._tokenizer.eot for t in s["tokens"])]

    @staticmethod
    def _shift(words: list[Word], offset_s: float) -> list[Word]:
        if not offset_s:
            return words
        return [Word(w.text, w.start + offset_s, w.end + offset_s, w.probability) for w in words]

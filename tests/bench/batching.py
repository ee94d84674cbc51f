"""Batching across rooms (``make bench``, issue #17): would several rooms' due decodes cost less as one
CTranslate2 Whisper call?

Windows as the engine decodes them: the last seconds of a live buffer (2-6 s of speech, each from a different
recording of ``../shared/audio``), padded to the engine's shortest encoder window, greedy decoding with word
timestamps. The same windows are decoded one per call and B per call (encoder, decoder and word alignment all
batched) on one inference thread, as one of the engine's workers would; the table gives milliseconds per
window, and the saving a batched call would bring over one call per window. It reports; there is no target
(the issue asks to batch only where this shows a saving).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_ctranslate2_storage
from threadpoolctl import threadpool_limits

from captions.asr.model import load_model
from captions.audio.pcm import Audio, load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from tests.bench.server import save_results
from tests.support.speech import corpus_for_bench

BATCHES = (1, 2, 4, 8)
WINDOW_SECONDS = (2.0, 3.0, 4.0, 5.0, 6.0, 2.5, 3.5, 4.5)
REPEATS = 5
PROMPT_CHARS = 200
PROMPT_TOKENS = 32
FRAMES_PER_SECOND = 100


@dataclass(frozen=True)
class Window:
    audio: Audio
    prompt: str  # the room's earlier text, as the engine gives it


def windows(count: int) -> list[Window]:
    corpus = corpus_for_bench()
    names = sorted(name for name in corpus.transcripts if name != "talk.wav")
    out: list[Window] = []
    for index in range(count):
        audio = load_audio(corpus.path(names[index % len(names)]))
        seconds = WINDOW_SECONDS[index % len(WINDOW_SECONDS)]
        earlier = " ".join(corpus.reference(names[(index - back) % len(names)]) for back in range(6, 0, -1))
        out.append(Window(audio[: round(seconds * SAMPLE_RATE)], earlier[-PROMPT_CHARS:]))
    return out


class Decoder:
    """One engine worker's decode of a window (greedy, timestamp tokens, a prompt, word alignment), for B
    windows in one call."""

    def __init__(self, model: WhisperModel, settings: Settings) -> None:
        self.model = model
        self.frames = round(settings.window_floor_s * FRAMES_PER_SECOND)
        self.tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")

    def prompt(self, text: str) -> list[int]:
        # CTranslate2 batches Whisper prompts only when <|startoftranscript|> sits at the same position in
        # each: every room's earlier text is cut to the same number of tokens.
        earlier = self.tokenizer.encode(" " + text)[-PROMPT_TOKENS:]
        return list(self.model.get_prompt(self.tokenizer, earlier))

    def features(self, audio: Audio) -> tuple[np.ndarray[Any, Any], int]:
        features = self.model.feature_extractor(audio, padding=160)
        content = min(features.shape[-1] - 1, self.frames)
        padded = np.zeros((features.shape[0], self.frames), np.float32)
        padded[:, :content] = features[:, :content]
        return padded, content

    def decode(self, batch: list[Window]) -> int:
        prepared = [self.features(window.audio) for window in batch]
        stacked = np.stack([features for features, _ in prepared])
        encoded = self.model.model.encode(get_ctranslate2_storage(stacked))
        results = self.model.model.generate(
            encoded, [self.prompt(window.prompt) for window in batch], beam_size=1, max_length=120,
            suppress_blank=True, return_no_speech_prob=True,
        )  # fmt: skip
        texts = [[t for t in r.sequences_ids[0] if t < self.tokenizer.eot] for r in results]
        self.model.model.align(
            encoded, self.tokenizer.sot_sequence, texts, [frames // 2 for _, frames in prepared]
        )
        return sum(len(text) for text in texts)


def per_window_ms(run: Callable[[], object], windows_done: int) -> float:
    run()  # warm
    started = time.perf_counter()
    for _ in range(REPEATS):
        run()
    return (time.perf_counter() - started) / REPEATS / windows_done * 1000


def main() -> int:
    threadpool_limits(limits=1, user_api="blas")  # as the engine does: numpy only computes spectrograms
    settings = Settings(num_workers=1, cpu_threads=1)
    decoder = Decoder(load_model(settings), settings)
    audio = windows(max(BATCHES))
    print("  decoding windows one per call and batched ...", file=sys.stderr, flush=True)
    rows = []
    for size in BATCHES:
        batch = audio[:size]
        single = per_window_ms(lambda: [decoder.decode([window]) for window in batch], size)  # noqa: B023
        batched = per_window_ms(lambda: decoder.decode(batch), size)  # noqa: B023
        rows.append({"batch": size, "one_per_call_ms": round(single, 1), "batched_ms": round(batched, 1)})
    print(f"\nBatching across rooms: ms per window on one inference thread ({os.cpu_count()} cores, "
          f"{settings.model or 'tiny.en'} {settings.compute_type}, {settings.window_floor_s:.0f} s windows)")  # fmt: skip
    print(f"{'windows':>8} {'one per call':>13} {'one batched call':>17} {'saving':>7}")
    for row in rows:
        saving = 1 - row["batched_ms"] / row["one_per_call_ms"]
        row["saving"] = round(saving, 3)
        print(
            f"{row['batch']:8d} {row['one_per_call_ms']:12.1f} {row['batched_ms']:16.1f} {saving * 100:6.0f}%"
        )
    save_results("batching.json", {"rows": rows, "cores": os.cpu_count()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

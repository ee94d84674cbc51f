"""Handover seam benchmark (part of ``make bench``; issue #27): a talk's transcript when its transcription moves
to another recogniser mid-talk, against the same talk without a move.

A move is what the transcriber does when it takes a room over (a transcriber killed, a lease lost, ``captions
serve`` restarted): the new recogniser gets the audio from the first frame the old one had not settled, and a
``Resume`` made of the stored finals (the last ``RESUME_PROMPT_FINALS``, as ``transcriber/worker.py`` reads
them) and the last restart point reported. Talks are recordings joined by pauses of different lengths; the move is tried every ``STEP_S`` of each.
The end-to-end kill and restart tests (``tests/scaleout``, ``tests/e2e/test_restarts.py``) take the same path
through real processes; this tries many more points than they can. Target: every moved transcript within 1 WER
point of the unmoved one.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass

import numpy as np

from captions.asr.engine import Engine
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, load_audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent, RestartPoint, Resume
from captions.settings import Settings
from captions.transcriber.worker import RESUME_PROMPT_FINALS
from tests.bench.server import save_results
from tests.support.speech import SpeechCorpus, corpus_for_bench, word_error_rate

FRAME_S = 0.1
STEP_S = 1.3
TARGET_POINTS = 0.01
FIRST_TALK = ("1089-134686-0000.flac", "1089-134691-0001.flac", "jfk.flac")
SECOND_TALK = ("spk1_snt1.wav", "spk1_snt2.wav", "1089-134686-0001.flac", "spk1_snt3.wav",
               "1089-134691-0000.flac", "spk1_snt4.wav", "spk1_snt5.wav")  # fmt: skip
TALKS = (FIRST_TALK, SECOND_TALK)
# Pauses between the recordings of a talk, in turn: shorter than an endpoint, a little longer, a long one.
PAUSES_S = (0.4, 0.8, 1.5)


@dataclass
class Talk:
    name: str
    audio: Audio
    reference: str


@dataclass
class Moved:
    talk: str
    seconds: float
    wer: float  # unmoved
    moves: list[tuple[float, float]]  # (seconds into the talk, WER of the moved transcript)

    @property
    def wers(self) -> list[float]:
        return [wer for _, wer in self.moves]


def talks(corpus: SpeechCorpus) -> list[Talk]:
    made = []
    for files in TALKS:
        if not all(corpus.path(name).is_file() for name in files):
            continue
        parts: list[Audio] = []
        for index, name in enumerate(files):
            if index:
                parts.append(np.zeros(round(PAUSES_S[(index - 1) % len(PAUSES_S)] * SAMPLE_RATE), np.float32))
            parts.append(load_audio(corpus.path(name)))
        reference = " ".join(corpus.reference(name) for name in files)
        made.append(Talk(" + ".join(files), np.concatenate(parts), reference))
    return made


def hear(recognizer: StreamingRecognizer, audio: Audio) -> list[CaptionEvent]:
    return [event for frame in split_frames(audio, FRAME_S) for event in recognizer.push(frame)]


def finals(events: list[CaptionEvent]) -> list[CaptionEvent]:
    return [event for event in events if event.kind == "final"]


def text(events: list[CaptionEvent]) -> str:
    return " ".join(event.text for event in events)


@dataclass(frozen=True)
class Stored:
    text: str
    start: float
    end: float


@dataclass
class Handover:
    """What a new owner gets after ``seconds`` of the talk: audio from ``at``, and the finals said by then."""

    seconds: float
    at: float
    said: list[CaptionEvent]
    restart: RestartPoint | None


def unmoved_with_handovers(talk: Talk, engine: Engine, settings: Settings) -> tuple[str, list[Handover]]:
    """The talk heard by one recogniser, and what a handover every ``STEP_S`` would have passed on."""
    recognizer = StreamingRecognizer(engine.decoder("en"), settings)
    events: list[CaptionEvent] = []
    handovers: list[Handover] = []
    every = round(STEP_S / FRAME_S)
    for index, frame in enumerate(split_frames(talk.audio, FRAME_S), start=1):
        events += recognizer.push(frame)
        if index % every == 0 and index * FRAME_S < len(talk.audio) / SAMPLE_RATE - FRAME_S:
            # Frames whose audio is settled were acknowledged; the new owner reads from the first one that was not.
            mark = recognizer.settled_mark()
            at = math.floor(mark.settled / FRAME_S + 1e-6) * FRAME_S
            restart = None if mark.listen_from is None else RestartPoint(mark.settled, mark.listen_from)
            handovers.append(Handover(round(index * FRAME_S, 1), at, finals(events), restart))
    return text(finals(events + recognizer.finish())), handovers


def moved(talk: Talk, engine: Engine, settings: Settings, handover: Handover) -> str:
    """The talk's transcript when a new recogniser takes it over at ``handover``."""
    # The finals as the transcriber stores them (times to the millisecond).
    stored = [
        Stored(e.text, round(e.start, 3), round(e.end, 3)) for e in handover.said[-RESUME_PROMPT_FINALS:]
    ]
    resume = Resume.after(handover.at, stored, handover.restart)
    after = StreamingRecognizer(engine.decoder("en"), settings, resume=resume)
    events = hear(after, talk.audio[round(handover.at * SAMPLE_RATE) :]) + after.finish()
    return text(handover.said + finals(events))


def main() -> int:
    settings = Settings()
    engine = Engine(settings)
    rows: list[Moved] = []
    for talk in talks(corpus_for_bench()):
        transcript, handovers = unmoved_with_handovers(talk, engine, settings)
        unmoved = word_error_rate(talk.reference, transcript)
        points: list[tuple[float, float]] = []
        for handover in handovers:
            said = moved(talk, engine, settings, handover)
            wer = word_error_rate(talk.reference, said)
            points.append((handover.seconds, round(wer, 4)))
            if wer > unmoved + TARGET_POINTS:
                print(f"  {talk.name} moved at {handover.seconds} s: WER {wer:.3f}: {said}", file=sys.stderr)
        rows.append(Moved(talk.name, round(len(talk.audio) / SAMPLE_RATE, 1), round(unmoved, 4), points))
    print("\nA talk's transcript moved to a new recogniser mid-talk (every "
          f"{STEP_S} s), against the same talk unmoved; target: every move within 1 WER point")  # fmt: skip
    print(
        "| talk | length | WER unmoved | moves | WER moved: mean | worst | worst vs unmoved | moves over target |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    missed = 0
    for row in rows:
        wers = row.wers
        over = sum(wer > row.wer + TARGET_POINTS for wer in wers)
        missed += over
        print(f"| {row.talk} | {row.seconds} s | {row.wer:.3f} | {len(wers)} | {np.mean(wers):.3f} | "
              f"{max(wers):.3f} | {100 * (max(wers) - row.wer):+.1f} pt | {over} |")  # fmt: skip
    save_results("handover.json", {"step_s": STEP_S, "talks": [asdict(row) for row in rows]})
    if missed:
        print(f"MISS: {missed} moves more than 1 WER point worse than the unmoved talk")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

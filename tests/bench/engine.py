"""Streaming engine benchmark (``make bench``): accuracy, cost and caption latency on real recordings.

For each recording: offline faster-whisper on the whole file (the accuracy and cost floor), then the
streaming engine fed in real time (100 ms frames). Latency of a final is measured per word (emission time
minus the end of the word in the audio); of a partial, per event (emission minus the end of its last word).
"""

from __future__ import annotations

import asyncio
import json
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from captions.asr.engine import Engine
from captions.asr.offline import transcribe_offline
from captions.asr.words import join_words
from captions.audio.pcm import load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from captions.simulation import TimedEvent, simulate
from tests.support.speech import corpus_for_bench, word_errors

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
TARGET_FILE = "talk.wav"
# whisper_streaming (LocalAgreement, 0.5 s chunks) measured on the same file, model and machine (issue #2).
REFERENCE = {"final_p50": 1.83, "final_p95": 2.64, "wer": 0.017}


@dataclass
class FileResult:
    file: str
    audio_s: float
    offline_cpu_s: float
    offline_wer: float
    offline_errors: str  # substitutions/deletions/insertions
    stream_cpu_s: float
    stream_wer: float
    stream_errors: str
    final_p50: float
    final_p95: float
    partial_p50: float
    partial_p95: float
    finals: int
    partials: int


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure(engine: Engine, name: str, path: Path, reference: str) -> FileResult:
    audio = load_audio(path)
    start = cpu_seconds()
    segments = transcribe_offline(engine.model, engine.settings, audio)
    offline_cpu = cpu_seconds() - start
    offline_text = " ".join(join_words(words) for words in segments)

    start = cpu_seconds()
    timed: list[TimedEvent] = asyncio.run(simulate(engine, audio, realtime=True))
    stream_cpu = cpu_seconds() - start
    finals = [t for t in timed if t.event.kind == "final"]
    partials = [t for t in timed if t.event.kind == "partial" and t.event.text]
    final_latency = [t.emitted_at - word.end for t in finals for word in t.event.words]
    partial_latency = [t.latency for t in partials]
    offline_errors = word_errors(reference, offline_text)
    stream_errors = word_errors(reference, " ".join(t.event.text for t in finals))
    return FileResult(
        file=name,
        audio_s=round(len(audio) / SAMPLE_RATE, 2),
        offline_cpu_s=round(offline_cpu, 2),
        offline_wer=round(offline_errors.rate, 3),
        offline_errors=offline_errors.split,
        stream_cpu_s=round(stream_cpu, 2),
        stream_wer=round(stream_errors.rate, 3),
        stream_errors=stream_errors.split,
        final_p50=round(percentile(final_latency, 50), 2),
        final_p95=round(percentile(final_latency, 95), 2),
        partial_p50=round(percentile(partial_latency, 50), 2),
        partial_p95=round(percentile(partial_latency, 95), 2),
        finals=len(finals),
        partials=len(partials),
    )


def table(rows: list[FileResult]) -> str:
    header = (
        f"{'file':24} {'audio s':>7} {'off cpu':>7} {'off WER':>7} {'S/D/I':>7} {'str cpu':>7} {'str WER':>7} "
        f"{'S/D/I':>7} {'fin p50':>7} {'fin p95':>7} {'par p50':>7} {'par p95':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.file:24} {r.audio_s:7.2f} {r.offline_cpu_s:7.2f} {r.offline_wer:7.3f} {r.offline_errors:>7} "
            f"{r.stream_cpu_s:7.2f} {r.stream_wer:7.3f} {r.stream_errors:>7} {r.final_p50:7.2f} {r.final_p95:7.2f} "
            f"{r.partial_p50:7.2f} {r.partial_p95:7.2f}"
        )
    return "\n".join(lines)


def targets(result: FileResult) -> list[tuple[str, str, str, bool]]:
    cpu_ratio = result.stream_cpu_s / result.offline_cpu_s
    wer_points = (result.stream_wer - result.offline_wer) * 100
    return [
        ("final latency p50", f"{result.final_p50:.2f} s", "<= 1.0 s", result.final_p50 <= 1.0),
        ("final latency p95", f"{result.final_p95:.2f} s", "<= 1.8 s", result.final_p95 <= 1.8),
        ("partial latency p50", f"{result.partial_p50:.2f} s", "<= 0.5 s", result.partial_p50 <= 0.5),
        ("WER above offline", f"{wer_points:+.1f} points", "<= +1 point", wer_points <= 1.0),
        ("CPU vs offline", f"{cpu_ratio:.2f}x", "<= 3x", cpu_ratio <= 3.0),
    ]


def main() -> int:
    corpus = corpus_for_bench()
    settings = Settings()
    engine = Engine(settings)
    warm = load_audio(corpus.path("jfk.wav"))
    asyncio.run(simulate(engine, warm, realtime=False))
    rows = []
    for name in sorted(corpus.transcripts):
        print(f"  streaming {name} in real time ...", file=sys.stderr, flush=True)
        rows.append(measure(engine, name, corpus.path(name), corpus.reference(name)))
    engine.close()

    print(
        f"\nStreaming engine vs offline faster-whisper ({settings.model or 'tiny.en'} {settings.compute_type}, "
        f"{settings.num_workers} worker(s) x {settings.inference_threads()} thread(s), {platform.machine()})"
    )
    print(table(rows))
    target = next(r for r in rows if r.file == TARGET_FILE)
    print(f"\nTargets on {TARGET_FILE}:")
    print(f"{'metric':22} {'measured':>14} {'target':>12}  result")
    for metric, measured, goal, ok in targets(target):
        print(f"{metric:22} {measured:>14} {goal:>12}  {'PASS' if ok else 'MISS'}")
    print(
        f"\nReference streaming-Whisper design (whisper_streaming, LocalAgreement, 0.5 s chunks) on {TARGET_FILE}:"
    )
    print(f"{'':22} {'final p50':>10} {'final p95':>10} {'WER':>7} {'partials':>9}")
    print(
        f"{'whisper_streaming':22} {REFERENCE['final_p50']:10.2f} {REFERENCE['final_p95']:10.2f} "
        f"{REFERENCE['wer']:7.3f} {'none':>9}"
    )
    print(
        f"{'this engine':22} {target.final_p50:10.2f} {target.final_p95:10.2f} {target.stream_wer:7.3f} "
        f"{target.partials:9d}"
    )

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "engine.json"
    out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "settings": settings.model_dump(mode="json"),
                "files": [asdict(r) for r in rows],
                "targets": [
                    {"metric": m, "measured": v, "target": g, "met": ok} for m, v, g, ok in targets(target)
                ],
                "reference_whisper_streaming": REFERENCE,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"\nwritten to {out.relative_to(RESULTS.parents[1])}")
    return 0 if all(ok for *_, ok in targets(target)) else 1


if __name__ == "__main__":
    raise SystemExit(main())

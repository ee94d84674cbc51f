"""``make soak``: an hour of varied, recurring speech in real time, scored per 5-minute window (issue #14).

Two runs, each a process of its own that this one measures (RSS, CPU): the engine alone, and a presenter and a
viewer over Socket.IO through ``captions serve``. The talk is ``tests.support.talk``: every window holds the
same speech, so a window that scores worse than the first one shows drift. Per window:

- WER against what was said (case- and punctuation-insensitive);
- the styled error rate against offline faster-whisper's transcript of the same utterances (case and sentence
  punctuation count), next to the plain error rate against it: their difference is what casing and
  punctuation add;
- utterances that lost their first words (of both the offline transcript and the reference), and sentence
  ends inside a sentence that the offline transcript does not end there;
- final and partial latency p50/p95 (arrival minus the end of the caption's words), RSS and CPU.

It exits non-zero when a target of the issue is missed. ``SOAK_MINUTES`` shortens it (a trial run). The two
runs go at once (each stream takes about a quarter of a core, so on two cores neither waits for the other);
``SOAK_PARALLEL=0`` runs them one after the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from captions.asr.model import load_model
from captions.asr.offline import transcribe_offline
from captions.asr.words import join_words
from captions.audio.pcm import Audio
from captions.settings import Settings
from tests.bench.engine import RESULTS, percentile
from tests.bench.server import cpu_of, running_server
from tests.support.abuse import rss_mb
from tests.support.speech import corpus_for_bench, word_error_rate
from tests.support.talk import (
    CYCLE_S,
    Said,
    TalkProgram,
    TranscribeOffline,
    Utterance,
    build_program,
    inner_sentence_ends,
    lost_its_start,
    styled_error_rate,
    utterance_finals,
)

WINDOW_S = CYCLE_S
SAMPLE_EVERY_S = 5.0
CACHE = RESULTS.parent / "cache"
RSS_FROM_S = 15 * 60


@dataclass
class Stream:
    """What one run's process printed and how it used the machine."""

    finals: list[Said] = field(default_factory=list)
    latency: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {"final": [], "partial": []}
    )  # (talk time of the words' end, latency)
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (talk time, RSS MB, CPU s)


@dataclass
class Window:
    minute: int
    wer: float
    styled_vs_offline: float
    styled: float  # against the reference as written
    lost_starts: int
    inner_ends: int
    final_p50: float
    final_p95: float
    partial_p50: float
    partial_p95: float
    rss_mb: float
    cpu_cores: float


async def run_stream(command: list[str], measured_pid: int | None, seconds: float) -> Stream:
    stream = Stream()
    child = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    pid = measured_pid or child.pid
    started = time.monotonic()

    async def sample() -> None:
        while True:
            stream.samples.append((time.monotonic() - started, rss_mb(pid), cpu_of(pid)))
            await asyncio.sleep(SAMPLE_EVERY_S)

    sampler = asyncio.create_task(sample())
    assert child.stdout is not None
    async for line in child.stdout:
        event = json.loads(line)
        if event["kind"] == "final":
            stream.finals.append(Said(event["text"], event["start"], event["end"]))
        if event["text"]:
            stream.latency[event["kind"]].append((event["end"], event["at"] - event["end"]))
    sampler.cancel()
    if await child.wait():
        raise SystemExit(f"soak: {command[3]} stream failed")
    return stream


def lost_start(utterance: Utterance, streamed: str) -> bool:
    """The stream lacks the start of both what offline faster-whisper heard and what was said. Offline alone is
    not enough: it sometimes writes a start that was never said ("I am an alert Matt, ..." for "An alert that
    fires ..."), and a stream that got the words right lost nothing."""
    return lost_its_start(utterance.offline, streamed) and lost_its_start(utterance.reference, streamed)


def score(program: TalkProgram, stream: Stream, seconds: float) -> list[Window]:
    said = " ".join(u.reference for u in program.utterances)
    offline = " ".join(u.offline for u in program.utterances)
    windows = []
    for index in range(int(seconds // WINDOW_S)):
        low, high = index * WINDOW_S, (index + 1) * WINDOW_S
        split = utterance_finals(program, stream.finals, index)
        texts = [" ".join(f.text for f in finals) for finals in split]
        streamed = " ".join(texts)
        pairs = list(zip(program.utterances, split, texts, strict=True))
        finals = [lat for end, lat in stream.latency["final"] if low <= end < high]
        partials = [lat for end, lat in stream.latency["partial"] if low <= end < high]
        inside = [s for s in stream.samples if low <= s[0] <= high + SAMPLE_EVERY_S]
        span = inside[-1][0] - inside[0][0] if len(inside) > 1 else 0.0
        windows.append(
            Window(
                minute=int(high // 60),
                wer=word_error_rate(said, streamed),
                styled_vs_offline=styled_error_rate(offline, streamed),
                styled=styled_error_rate(said, streamed),
                lost_starts=sum(lost_start(u, text) for u, _, text in pairs),
                inner_ends=sum(len(inner_sentence_ends(program, u, said_)) for u, said_, _ in pairs),
                final_p50=percentile(finals, 50),
                final_p95=percentile(finals, 95),
                partial_p50=percentile(partials, 50),
                partial_p95=percentile(partials, 95),
                rss_mb=inside[-1][1] if inside else 0.0,
                cpu_cores=(inside[-1][2] - inside[0][2]) / span if span else 0.0,
            )
        )
    return windows


def targets(windows: list[Window], stream: Stream, offline_style: float) -> list[tuple[str, str, str, bool]]:
    """``offline_style``: what case and punctuation add to the offline transcript's error rate."""
    first = windows[0]
    worst_wer = max(w.wer for w in windows)
    worst_style = max(w.styled - w.wer for w in windows)
    worst_p95 = max(w.final_p95 for w in windows)
    late = [rss for at, rss, _ in stream.samples if at >= RSS_FROM_S]
    drift = (max(late) - min(late)) / min(late) if late else 0.0
    return [
        ("WER, every window", f"{worst_wer:.3f}", f"<= {first.wer + 0.01:.3f}", worst_wer <= first.wer + 0.01),
        ("utterances losing starts", str(sum(w.lost_starts for w in windows)), "0", not any(w.lost_starts for w in windows)),
        ("case/punct. added to WER", f"{worst_style:+.3f}", f"<= {offline_style + 0.02:+.3f}", worst_style <= offline_style + 0.02),
        ("sentence ends inside", str(sum(w.inner_ends for w in windows)), "0", not any(w.inner_ends for w in windows)),
        ("final p95, every window", f"{worst_p95:.2f} s", f"<= {first.final_p95 * 1.1:.2f} s", worst_p95 <= first.final_p95 * 1.1),
        ("RSS from minute 15", f"{drift * 100:.1f} %" if late else "n/a", "<= 3 %", drift <= 0.03),
    ]  # fmt: skip


def table(name: str, windows: list[Window]) -> str:
    head = (
        f"{'minute':>6} {'WER':>6} {'styled':>7} {'vs off':>6} {'lost':>5} {'ends':>5} {'fin p50':>8} "
        f"{'fin p95':>8} {'par p50':>8} {'par p95':>8} {'RSS MB':>7} {'cores':>6}"
    )
    rows = [
        f"{w.minute:6d} {w.wer:6.3f} {w.styled:7.3f} {w.styled_vs_offline:6.3f} {w.lost_starts:5d} "
        f"{w.inner_ends:5d} {w.final_p50:8.2f} {w.final_p95:8.2f} {w.partial_p50:8.2f} {w.partial_p95:8.2f} "
        f"{w.rss_mb:7.0f} {w.cpu_cores:6.2f}"
        for w in windows
    ]
    return "\n".join([f"\n{name}: per {WINDOW_S / 60:.0f}-minute window", head, *rows])


def offline_transcriber(settings: Settings) -> TranscribeOffline:
    model = load_model(settings)

    def transcribe(audio: Audio) -> str:
        return " ".join(join_words(words) for words in transcribe_offline(model, settings, audio))

    return transcribe


async def soak(seconds: float, parallel: bool) -> dict[str, Stream]:
    python = sys.executable
    base = [python, "-m", "tests.bench.soak_stream"]
    common = ["--seconds", str(seconds), "--cache", str(CACHE)]

    async def engine() -> Stream:
        return await run_stream([*base, "engine", *common], None, seconds)

    async def serve() -> Stream:
        with tempfile.TemporaryDirectory() as data, running_server(Path(data)) as (url, server):
            return await run_stream([*base, "serve", *common, "--url", url], server.pid, seconds)

    if parallel:
        engine_stream, serve_stream = await asyncio.gather(engine(), serve())
    else:
        engine_stream, serve_stream = await engine(), await serve()
    return {"engine": engine_stream, "serve": serve_stream}


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "60"))
    parallel = os.environ.get("SOAK_PARALLEL", "1") != "0"
    seconds = minutes * 60
    settings = Settings()
    print("soak: building the talk (espeak-ng, offline transcripts) ...", file=sys.stderr, flush=True)
    program = build_program(corpus_for_bench(), CACHE, offline_transcriber(settings))
    print(
        f"soak: {minutes:.0f} minutes, {'both runs at once' if parallel else 'one run after the other'}",
        file=sys.stderr,
        flush=True,
    )
    said = " ".join(u.reference for u in program.utterances)
    offline = " ".join(u.offline for u in program.utterances)
    offline_wer, offline_styled = word_error_rate(said, offline), styled_error_rate(said, offline)
    offline_style = offline_styled - offline_wer
    print(f"offline faster-whisper on one cycle: WER {offline_wer:.3f}, case/punct.-sensitive {offline_styled:.3f} "
          f"({offline_style:+.3f} from case and punctuation)")  # fmt: skip
    runs = asyncio.run(soak(seconds, parallel))
    results: dict[str, Any] = {"offline": {"wer": offline_wer, "styled": offline_styled}, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "minutes": minutes,
                               "parallel": parallel, "runs": {}}  # fmt: skip
    failed = False
    for name, stream in runs.items():
        windows = score(program, stream, seconds)
        if not windows:
            raise SystemExit(f"soak: shorter than one {WINDOW_S / 60:.0f}-minute window")
        print(table(f"{name} ({settings.model or 'tiny.en'} {settings.compute_type})", windows))
        print(f"\n{'target':28} {'measured':>10} {'target':>12}  result")
        checks = targets(windows, stream, offline_style)
        for what, measured, goal, ok in checks:
            print(f"{what:28} {measured:>10} {goal:>12}  {'PASS' if ok else 'MISS'}")
            failed |= not ok
        results["runs"][name] = {
            "windows": [asdict(w) for w in windows],
            "targets": [{"target": t[0], "measured": t[1], "goal": t[2], "pass": t[3]} for t in checks],
            "rss_samples": [(round(at), round(rss, 1)) for at, rss, _ in stream.samples],
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {RESULTS / 'soak.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

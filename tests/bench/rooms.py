"""Rooms per machine (``make bench``): N presenters streaming at once into one ``captions serve``.

Each presenter streams its own programme in real time over Socket.IO, starts staggered 0.5 s apart, with a
viewer per room: the recordings of ``../shared/audio`` one after the other with a second's pause, each room
starting at a different recording (so at any moment the rooms say different things, and no recording is
streamed N times at once). Latency is measured at the viewers: arrival minus the end of the caption's words in
the room's audio. For N = 1, 2, 4, 8, 12, 16, 24 (until final p95 passes 3 s; ``ROOMS_COUNTS`` picks others) it prints final p50/p95, partial
p50, the rooms' mean WER against what was said with its substitutions/deletions/insertions, and beside it two
references on the very same programmes: each programme streamed *alone* through the same streaming recogniser
(in this process, one at a time, frames of 0.1 s, no other work: what one room on an idle machine gets), and
offline faster-whisper (whole programme, beam 5: the floor). The difference between the rooms' WER and the alone
WER is what load costs in words (issue #31: at most 1 point at 12 rooms). It also prints the server's CPU per
room, and the largest N with final p95 <= 1.5 s: the number ``CAPTIONS_MAX_ROOMS`` should be on this machine
(re-run it on yours to size transcribers).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from captions.asr.decoder import WindowDecoder
from captions.asr.model import load_model
from captions.asr.offline import transcribe_offline
from captions.asr.streaming import StreamingRecognizer
from captions.asr.words import join_words
from captions.audio.pcm import Audio, load_audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from tests.bench.server import Heard, cpu_of, live_room, percentiles, running_server, save_results
from tests.support.speech import SpeechCorpus, WordErrors, corpus_for_bench, word_errors

COUNTS = tuple(int(n) for n in os.environ.get("ROOMS_COUNTS", "1,2,4,8,12,16,24").split(","))
STAGGER_S = 0.5
PROGRAMME_S = float(os.environ.get("ROOMS_PROGRAMME_S", "45"))
GOOD_P95_S = 1.5
GIVE_UP_P95_S = 3.0
# No admission limit (the point is to find it), and room creation from the one benchmark address not limited.
SERVER_ENV = {"CAPTIONS_MAX_ROOMS": "0", "CAPTIONS_ROOMS_BURST": "100"}


@dataclass
class Programme:
    audio: Audio
    said: str


@dataclass
class Room:
    programme: Programme
    heard: Heard = field(default_factory=Heard)


@dataclass
class Row:
    rooms: int
    final_p50: float
    final_p95: float
    partial_p50: float
    mean_wer: float
    alone_wer: float  # the same programmes, each streamed by itself on an idle machine
    offline_wer: float
    errors: str  # substitutions/deletions/insertions over the rooms: what kind of words go
    alone_errors: str
    offline_errors: str
    cpu_per_room: float
    finals: int


def offline_errors(programmes: list[Programme]) -> list[WordErrors]:
    """Offline faster-whisper (whole programme, beam 5) on each programme: the accuracy floor."""
    settings = Settings()
    model = load_model(settings)
    return [
        word_errors(
            p.said, " ".join(join_words(words) for words in transcribe_offline(model, settings, p.audio))
        )
        for p in programmes
    ]


@functools.cache
def _decoder() -> tuple[Settings, WindowDecoder]:
    """One model per worker process, for every programme it streams."""
    settings = Settings()
    return settings, WindowDecoder(load_model(settings), settings)


def alone_errors(programme: Programme) -> WordErrors:
    """One programme through the streaming recogniser by itself, frames in order as a lone room gets them: no
    decode waits for another stream's, and none is stretched by load (run in a worker process)."""
    settings, decoder = _decoder()
    recognizer = StreamingRecognizer(decoder, settings)
    finals = [
        event.text
        for frame in split_frames(programme.audio, 0.1)
        for event in recognizer.push(frame)
        if event.kind == "final"
    ]
    finals += [event.text for event in recognizer.finish() if event.kind == "final"]
    return word_errors(programme.said, " ".join(finals))


def streamed_alone(programmes: list[Programme]) -> list[WordErrors]:
    # Spawned: a forked child of a process that has run CTranslate2's threads can hang.
    workers = max(1, min(len(programmes), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(alone_errors, programmes))


def programmes(corpus: SpeechCorpus, count: int) -> list[Programme]:
    """Programme k: the recordings from the k-th on, around, until PROGRAMME_S of audio."""
    names = sorted(name for name in corpus.transcripts if name not in ("talk.wav", "jfk.flac"))
    audio = {name: load_audio(corpus.path(name)) for name in names}
    pause = np.zeros(SAMPLE_RATE, np.float32)
    out: list[Programme] = []
    for k in range(count):
        parts: list[Audio] = []
        said: list[str] = []
        index = k
        while sum(len(p) for p in parts) < PROGRAMME_S * SAMPLE_RATE:
            name = names[index % len(names)]
            parts += [audio[name], pause]
            said.append(corpus.reference(name))
            index += 1
        out.append(Programme(np.concatenate(parts), " ".join(said)))
    return out


async def run(
    url: str, pid: int, count: int, corpus: SpeechCorpus, offline: list[WordErrors], alone: list[WordErrors]
) -> Row:
    rooms = [Room(programme) for programme in programmes(corpus, count)]
    cpu_before, started = cpu_of(pid), time.monotonic()
    await asyncio.gather(
        *(
            live_room(url, room.programme.audio, index * STAGGER_S, room.heard)
            for index, room in enumerate(rooms)
        )
    )
    cpu = (cpu_of(pid) - cpu_before) / (time.monotonic() - started)
    finals = [latency for room in rooms for latency in room.heard.latencies("final")]
    partials = [latency for room in rooms for latency in room.heard.latencies("partial")]
    errors = [
        word_errors(
            room.programme.said, " ".join(c["text"] for _, c in room.heard.arrivals if c["kind"] == "final")
        )
        for room in rooms
    ]
    return Row(
        rooms=count,
        final_p50=percentiles(finals)[0],
        final_p95=percentiles(finals)[1],
        partial_p50=percentiles(partials)[0],
        mean_wer=round(float(np.mean([e.rate for e in errors])), 3),
        alone_wer=round(float(np.mean([e.rate for e in alone[:count]])), 3),
        offline_wer=round(float(np.mean([e.rate for e in offline[:count]])), 3),
        errors=sum(errors, WordErrors()).split,
        alone_errors=sum(alone[:count], WordErrors()).split,
        offline_errors=sum(offline[:count], WordErrors()).split,
        cpu_per_room=round(cpu / count, 3),
        finals=len(finals),
    )


def main() -> int:
    corpus = corpus_for_bench()
    every = programmes(corpus, max(COUNTS))
    print("  offline faster-whisper on every programme ...", file=sys.stderr, flush=True)
    offline = offline_errors(every)
    print("  every programme streamed alone ...", file=sys.stderr, flush=True)
    alone = streamed_alone(every)
    rows: list[Row] = []
    for count in COUNTS:
        print(f"  {count} rooms at once ...", file=sys.stderr, flush=True)
        with (
            tempfile.TemporaryDirectory() as data,
            running_server(Path(data), SERVER_ENV) as (url, server),
        ):
            rows.append(asyncio.run(run(url, server.pid, count, corpus, offline, alone)))
        if rows[-1].final_p95 > GIVE_UP_P95_S:
            break
    settings = Settings()
    print(
        f"\nRooms at once through one `captions serve` ({os.cpu_count()} cores, {settings.model or 'tiny.en'}"
        f" {settings.compute_type} on {settings.device}), latency at viewers:"
    )
    print(
        f"{'rooms':>5} {'final p50':>10} {'final p95':>10} {'partial p50':>12} {'mean WER':>9} {'S/D/I':>9}"
        f" {'alone':>8} {'S/D/I':>9} {'offline':>8} {'S/D/I':>9} {'CPU/room':>9}"
    )
    for row in rows:
        print(f"{row.rooms:5d} {row.final_p50:9.2f}s {row.final_p95:9.2f}s {row.partial_p50:11.2f}s "
              f"{row.mean_wer:9.3f} {row.errors:>9} {row.alone_wer:8.3f} {row.alone_errors:>9} "
              f"{row.offline_wer:8.3f} {row.offline_errors:>9} {row.cpu_per_room:8.2f}c")  # fmt: skip
    fitting = [row.rooms for row in rows if row.final_p95 <= GOOD_P95_S]
    best = max(fitting, default=0)
    print(f"\nlargest N with final p95 <= {GOOD_P95_S} s: {best} (CAPTIONS_MAX_ROOMS for this machine)")
    checks = targets({row.rooms: row for row in rows})
    print(f"\n{'target (issues #17, #31)':34} {'measured':>10} {'target':>8}  result")
    for what, measured, goal, ok in checks:
        print(f"{what:34} {measured:>10} {goal:>8}  {'PASS' if ok else 'MISS'}")
    save_results(
        "rooms.json", {"rows": [asdict(row) for row in rows], "max_rooms": best, "cores": os.cpu_count()}
    )
    return 0 if all(ok for *_, ok in checks) else 1


def targets(by_rooms: dict[int, Row]) -> list[tuple[str, str, str, bool]]:
    """The issue's targets for the counts that were run."""
    checks: list[tuple[str, str, str, bool]] = []
    if one := by_rooms.get(1):
        checks += [
            ("1 room: final p50", f"{one.final_p50:.2f} s", "<= 0.5 s", one.final_p50 <= 0.5),
            ("1 room: final p95", f"{one.final_p95:.2f} s", "<= 1.2 s", one.final_p95 <= 1.2),
            ("1 room: partial p50", f"{one.partial_p50:.2f} s", "<= 0.25 s", one.partial_p50 <= 0.25),
            ("1 room: CPU per room", f"{one.cpu_per_room:.2f}", "<= 0.25", one.cpu_per_room <= 0.25),
            ("1 room: WER - offline floor", f"{(one.mean_wer - one.offline_wer) * 100:+.1f} pt", "<= 0 pt",
             one.mean_wer <= one.offline_wer),
        ]  # fmt: skip
    if twelve := by_rooms.get(12):  # the aim, the same at 16, is in the table
        load_cost = twelve.mean_wer - twelve.alone_wer
        checks += [
            ("12 rooms: final p95", f"{twelve.final_p95:.2f} s", "<= 1.5 s", twelve.final_p95 <= GOOD_P95_S),
            ("12 rooms: mean WER - alone", f"{load_cost * 100:+.1f} pt", "<= +1 pt", load_cost <= 0.01),
        ]
    return checks


if __name__ == "__main__":
    raise SystemExit(main())

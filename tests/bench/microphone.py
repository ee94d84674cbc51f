"""Microphone-path benchmark (``make bench``): does the presenter console's microphone path cost accuracy?

Each programme goes through one server twice: through Chromium's fake microphone into the presenter console
(getUserMedia, the AudioWorklet's resampling to 16 kHz PCM16, Socket.IO), and as the same recording's PCM sent
directly over Socket.IO; both end with Stop, and the stored finals are scored. The programmes are the corpus's
talk and, per speaker, its recordings joined into one (real speech; ``corpus_for_bench``: the shared set beside
the repository where it is there). The WER of each path is pooled over all programmes (errors over reference
words), with the offline floor of the same audio beside it.

Target (issue #31 item 3): the microphone path's WER at most 1 point above the direct path's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from captions.asr.engine import Engine
from captions.asr.offline import transcribe_offline
from captions.audio.pcm import load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import WEB_BUILD, Settings
from tests.bench.engine import RESULTS
from tests.support.browser import BROWSER_DIR
from tests.support.harness import Server, pcm_frames, presenter, stored_finals, stream
from tests.support.speech import SpeechCorpus, corpus_for_bench, normalise, word_error_rate

TARGET_POINTS = 1.0


def programmes(corpus: SpeechCorpus, folder: Path) -> list[tuple[str, Path, str]]:
    """(name, WAV file, reference): the talk, and each LibriSpeech speaker's recordings joined into one."""
    chosen = [("talk", corpus.path("talk.wav"), corpus.reference("talk.wav"))]
    speakers: dict[str, list[str]] = defaultdict(list)
    for name in sorted(corpus.transcripts):
        if name.count("-") == 2:  # LibriSpeech: speaker-chapter-utterance
            speakers[name.split("-")[0]].append(name)
    for speaker, names in speakers.items():
        joined = folder / f"speaker-{speaker}.wav"
        sox = [shutil.which("sox") or "sox", *(str(corpus.path(n)) for n in names), "-r", "16000", "-c", "1"]
        subprocess.run([*sox, "-b", "16", str(joined)], check=True)
        chosen.append((f"speaker {speaker}", joined, " ".join(corpus.reference(n) for n in names)))
    return chosen


async def through_microphone(server: Server, wav: Path) -> str:
    seconds = len(load_audio(wav)) / SAMPLE_RATE
    script = str(BROWSER_DIR / "microphone-path.mjs")
    process = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node", script, server.url, str(wav), f"{seconds:.1f}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bench: the microphone path failed: {err.decode()[-2000:]}")
    return str(json.loads(out.decode().strip().splitlines()[-1])["text"])


async def directly(server: Server, wav: Path) -> str:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    await stream(speaker, pcm_frames(wav))
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended, within_s=120)
    await speaker.disconnect()
    return " ".join(final["text"] for final in await stored_finals(server, room["id"]))


async def measure(engine: Engine, chosen: list[tuple[str, Path, str]], data: Path) -> list[dict[str, object]]:
    settings = Settings(data_dir=data, web_dir=WEB_BUILD, status_interval_s=0.2)
    rows = []
    async with Server(settings, engine) as server:
        for name, wav, reference in chosen:
            print(f"  {name}: microphone path, then direct ...", file=sys.stderr, flush=True)
            browser, direct = await through_microphone(server, wav), await directly(server, wav)
            segments = transcribe_offline(engine.model, engine.settings, load_audio(wav))
            floor = "".join(word.text for segment in segments for word in segment)
            words = len(normalise(reference).split())
            rows.append({
                "programme": name, "words": words,
                **{path: word_error_rate(reference, text) for path, text in
                   (("microphone", browser), ("direct", direct), ("floor", floor))},
            })  # fmt: skip
    return rows


def pooled(rows: list[dict[str, object]], path: str) -> float:
    words = sum(int(str(row["words"])) for row in rows)
    return sum(float(str(row[path])) * int(str(row["words"])) for row in rows) / words


def main() -> int:
    if (
        not (WEB_BUILD / "index.html").is_file()
        or not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()
    ):
        raise SystemExit("bench: build the web app and install the browser tools first (make test does both)")
    engine = Engine(Settings())
    with tempfile.TemporaryDirectory() as folder:
        rows = asyncio.run(
            measure(engine, programmes(corpus_for_bench(), Path(folder)), Path(folder) / "data")
        )
    engine.close()
    total = {path: pooled(rows, path) for path in ("microphone", "direct", "floor")}
    print("\nMicrophone path vs PCM sent directly (WER, same server, tiny.en int8)")
    print(f"{'programme':<16}{'words':>6}{'microphone':>12}{'direct':>8}{'floor':>8}")
    for row in rows:
        print(f"{row['programme']!s:<16}{row['words']!s:>6}{row['microphone']:>12.3f}{row['direct']:>8.3f}"
              f"{row['floor']:>8.3f}")  # fmt: skip
    print(f"{'pooled':<16}{'':>6}{total['microphone']:>12.3f}{total['direct']:>8.3f}{total['floor']:>8.3f}")
    gap = (total["microphone"] - total["direct"]) * 100
    met = gap <= TARGET_POINTS
    print(f"target: microphone path within {TARGET_POINTS:g} point of direct: {gap:+.1f} points "
          f"({'met' if met else 'MISSED'})")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "microphone.json").write_text(json.dumps({"rows": rows, "pooled": total}, indent=1))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

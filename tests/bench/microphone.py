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
from dataclasses import asdict, dataclass
from pathlib import Path

from captions.asr.engine import Engine
from captions.asr.offline import transcribe_offline
from captions.audio.pcm import load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import WEB_BUILD, Settings
from tests.bench.engine import RESULTS
from tests.support.browser import BROWSER_DIR
from tests.support.harness import Server, pcm_frames, presenter, stored_finals, stream
from tests.support.speech import SpeechCorpus, WordErrors, corpus_for_bench, word_errors

TARGET_POINTS = 1.0


def programmes(corpus: SpeechCorpus, folder: Path) -> list[tuple[str, Path, str]]:
    """(name, WAV file, reference): the talk, and each source's recordings joined into one (a LibriSpeech
    speaker's, the LibriVox reader's, pocketsphinx's short commands)."""
    chosen = [("talk", corpus.path("talk.wav"), corpus.reference("talk.wav"))]
    speakers: dict[str, list[str]] = defaultdict(list)
    for name in sorted(corpus.transcripts):
        if "-" in name:  # speaker-chapter-utterance (LibriSpeech), source-what (the others)
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


@dataclass
class Row:
    programme: str
    errors: dict[str, WordErrors]  # by path: microphone, direct, floor


PATHS = ("microphone", "direct", "floor")


async def measure(engine: Engine, chosen: list[tuple[str, Path, str]], data: Path) -> list[Row]:
    settings = Settings(data_dir=data, web_dir=WEB_BUILD, status_interval_s=0.2)
    rows = []
    async with Server(settings, engine) as server:
        for name, wav, reference in chosen:
            print(f"  {name}: microphone path, then direct ...", file=sys.stderr, flush=True)
            browser, direct = await through_microphone(server, wav), await directly(server, wav)
            segments = transcribe_offline(engine.model, engine.settings, load_audio(wav))
            floor = "".join(word.text for segment in segments for word in segment)
            texts = dict(zip(PATHS, (browser, direct, floor), strict=True))
            rows.append(Row(name, {path: word_errors(reference, text) for path, text in texts.items()}))
    return rows


def cell(errors: WordErrors) -> str:
    return f"{errors.rate:.3f} {errors.split:>8}"


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
    total = Row("pooled", {path: sum((row.errors[path] for row in rows), WordErrors()) for path in PATHS})
    print("\nMicrophone path vs PCM sent directly (WER and S/D/I errors, same server, tiny.en int8)")
    print(f"{'programme':<16}{'words':>6}" + "".join(f"{path:>16}" for path in PATHS))
    for row in [*rows, total]:
        cells = "".join(f"{cell(row.errors[path]):>16}" for path in PATHS)
        print(f"{row.programme:<16}{row.errors['direct'].words:>6}{cells}")
    gap = (total.errors["microphone"].rate - total.errors["direct"].rate) * 100
    met = gap <= TARGET_POINTS
    print(f"target: microphone path within {TARGET_POINTS:g} point of direct: {gap:+.1f} points "
          f"({'met' if met else 'MISSED'})")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    as_json = [{"programme": row.programme, **{path: asdict(row.errors[path]) for path in PATHS}}
               for row in [*rows, total]]  # fmt: skip
    (RESULTS / "microphone.json").write_text(json.dumps(as_json, indent=1))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

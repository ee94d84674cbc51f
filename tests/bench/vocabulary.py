"""Room vocabulary benchmark (``make bench``): does a talk's list of names and jargon get them written right?

Speech with domain terms: a talk of espeak-ng sentences naming people, products and tools, one after the other
with a second's pause (a synthetic voice, not tuned for: the terms are ordinary conference jargon, and some recur
as they do in talks). It goes through the local streaming engine twice, without and with the room's vocabulary
(every term of the talk, as a presenter would enter them); term recall is the share of the terms said that come
out spelled as the vocabulary spells them (case aside). The real recordings go through
both ways too, with the same vocabulary (unrelated to them): the vocabulary must not make ordinary speech worse.

Targets (issue #15): recall up by at least 30 points; WER on the real recordings not worse by more than 0.5 point.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from captions.asr.engine import Engine
from captions.audio.pcm import Audio, load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from captions.simulation import TimedEvent, simulate
from tests.bench.engine import RESULTS
from tests.support.speech import corpus_for_bench, word_error_rate

CACHE = RESULTS.parent / "cache" / "vocabulary"

# (sentence, the terms it says)
TALK: list[tuple[str, tuple[str, ...]]] = [
    ("This morning Siobhan Okonkwo will show how we run Kubernetes at scale.", ("Siobhan", "Okonkwo", "Kubernetes")),
    ("Our service mesh moved to Istio with Envoy sidecars.", ("Istio", "Envoy")),
    ("We keep every event in Kafka and the hot data in Redis.", ("Kafka", "Redis")),
    ("Dashboards come from Grafana, and Prometheus scrapes the metrics.", ("Grafana", "Prometheus")),
    ("The infrastructure is written in Terraform and configured with Ansible.", ("Terraform", "Ansible")),
    ("Between the services we speak gRPC instead of plain JSON.", ("gRPC", "JSON")),
    ("Professor Nakamura trained the model with PyTorch on Nvidia cards.", ("Nakamura", "PyTorch", "Nvidia")),
    ("Kowalski explained why the old TensorFlow pipeline was retired.", ("Kowalski", "TensorFlow")),
    ("The edge functions compile to WebAssembly and deploy on Vercel.", ("WebAssembly", "Vercel")),
    ("Logins go through Keycloak, which speaks OAuth.", ("Keycloak", "OAuth")),
    ("Search runs on Elasticsearch, and support looks at Kibana every day.", ("Elasticsearch", "Kibana")),
    ("Thanh Nguyen moved the build from Jenkins to GitLab last spring.", ("Thanh", "Nguyen", "Jenkins", "GitLab")),
    ("The mobile team tested the app on Xiaomi and Huawei phones.", ("Xiaomi", "Huawei")),
    ("Doctor Oyelaran compared Llama and Mistral on our support tickets.", ("Oyelaran", "Llama", "Mistral")),
    ("We store user profiles in PostgreSQL and the logs in MongoDB.", ("PostgreSQL", "MongoDB")),
    ("The prototype used LangChain with a model from Hugging Face.", ("LangChain", "Hugging Face")),
    ("Please thank Ramirez and Dvorak for organising the workshop.", ("Ramirez", "Dvorak")),
    ("Our CUDA kernels now run twice as fast after the profiling.", ("CUDA",)),
    ("Supabase gave the students a database in a few minutes.", ("Supabase",)),
    ("Next year Siobhan and Nakamura will present the Kubernetes operator.", ("Siobhan", "Nakamura", "Kubernetes")),
]  # fmt: skip


def vocabulary() -> list[str]:
    return list(dict.fromkeys(term for _, terms in TALK for term in terms))


def spoken(index: int, sentence: str) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("bench: espeak-ng is not installed (make setup installs it)")
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"{index:02d}.wav"
    if not out.exists():
        subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(out), sentence], check=True)
    return out


def recalled(text: str, terms: Sequence[str]) -> int:
    """Occurrences of ``terms`` (a term said twice is there twice) written as spelled (case aside), each as a
    whole word or phrase."""
    words = re.findall(r"[\w.+#-]+", text.lower())
    written = " " + " ".join(word.strip(".") for word in words) + " "
    said = Counter(term.lower() for term in terms)
    return sum(min(count, written.count(f" {term} ")) for term, count in said.items())


def talk_audio() -> Audio:
    pause = np.zeros(SAMPLE_RATE, np.float32)
    return np.concatenate(
        [part for i, (sentence, _) in enumerate(TALK) for part in (load_audio(spoken(i, sentence)), pause)]
    )


async def transcribe(engine: Engine, audio: Audio, terms: Sequence[str]) -> str:
    finals: list[str] = []

    def keep(item: TimedEvent) -> None:
        if item.event.kind == "final":
            finals.append(item.event.text)

    await simulate(engine, audio, realtime=False, on_event=keep, vocabulary=terms)
    return " ".join(finals)


async def measure(engine: Engine) -> dict[str, object]:
    terms = vocabulary()
    named = [term for _, said_here in TALK for term in said_here]
    audio = talk_audio()
    found, transcripts = {}, {}
    for way, given in (("without", ()), ("with", terms)):
        transcripts[way] = await transcribe(engine, audio, given)
        found[way] = recalled(transcripts[way], named)
    said = len(named)
    corpus = corpus_for_bench()
    references, hypotheses = {"without": [], "with": []}, {"without": [], "with": []}  # type: ignore[var-annotated]
    for name, reference in corpus.transcripts.items():
        if name == "talk.wav":  # the recordings it is made of are there one by one
            continue
        audio = load_audio(corpus.path(name))
        for way, given in (("without", ()), ("with", terms)):
            references[way].append(reference)
            hypotheses[way].append(await transcribe(engine, audio, given))
    wer = {way: word_error_rate(" ".join(references[way]), " ".join(hypotheses[way])) for way in references}
    return {
        "terms": len(terms),
        "terms_said": said,
        "recall": {way: found[way] / said for way in found},
        "wer_real": wer,
        "recordings": len(references["with"]),
        "transcripts": transcripts,
    }


def main() -> int:
    engine = Engine(Settings())
    try:
        result = asyncio.run(measure(engine))
    finally:
        engine.close()
    recall, wer = result["recall"], result["wer_real"]
    assert isinstance(recall, dict)
    assert isinstance(wer, dict)
    gain = recall["with"] - recall["without"]
    worse = wer["with"] - wer["without"]
    print(f"\nRoom vocabulary (local tiny.en int8): {result['terms']} terms, said {result['terms_said']} times "
          f"in a talk of {len(TALK)} espeak-ng sentences; {result['recordings']} real recordings")  # fmt: skip
    print(f"{'':28} {'without':>9} {'with':>9}")
    print(f"{'term recall':28} {recall['without']:9.3f} {recall['with']:9.3f}")
    print(f"{'WER, real recordings':28} {wer['without']:9.3f} {wer['with']:9.3f}")
    checks = [
        ("recall gain", f"{gain * 100:+.1f} pt", ">= +30 pt", gain >= 0.30),
        ("WER change, real speech", f"{worse * 100:+.2f} pt", "<= +0.5 pt", worse <= 0.005),
    ]
    print(f"\n{'target':28} {'measured':>10} {'target':>12}  result")
    for what, measured, goal, ok in checks:
        print(f"{what:28} {measured:>10} {goal:>12}  {'PASS' if ok else 'MISS'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "vocabulary.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

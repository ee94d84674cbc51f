"""A long talk made of real recordings and synthetic paragraphs, and how to score a transcript of it by window.

One cycle of the program lasts exactly ``CYCLE_S``: the human recordings and espeak-ng sentences in sequence
(voices and speeds vary), each an utterance with a pause after it, then silence to fill the cycle. Looping the
cycle gives a talk of any length in which the same sentences recur, as they do in real talks, and in which
every window of ``CYCLE_S`` holds the same speech: a window that scores worse than the first is drift, not
harder material.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import jiwer
import numpy as np

from captions.asr.streaming import HYSTERESIS
from captions.asr.words import ends_sentence
from captions.audio.pcm import Audio, load_audio
from captions.audio.vad import WINDOW, StreamingVad
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from tests.support.speech import SpeechCorpus, normalise

CYCLE_S = 300.0
RECORDINGS = (
    "jfk.wav",
    "spk1_snt1.wav",
    "spk1_snt2.wav",
    "1089-134686-0000.flac",
    "spk1_snt3.wav",
    "1089-134686-0001.flac",
    "spk1_snt4.wav",
    "1089-134691-0000.flac",
    "spk1_snt5.wav",
    "1089-134691-0001.flac",
)
# Sentences a talk at a conference could hold, read by espeak-ng in turn by these voices (name, words/minute).
VOICES = (("en-us", 160), ("en-gb-x-rp", 150), ("en-us+f3", 165), ("en-us+m3", 155))
SYNTHETIC = (
    "Good morning, and thank you all for coming to the first session of the day.",
    "Today I want to talk about how small teams can ship reliable software.",
    "Most outages do not start with a big mistake. They start with a small change nobody reviewed.",
    "So what can we do about it? We can make every change small, visible and easy to undo.",
    "The first habit is to write down what you expect before you deploy anything.",
    "If the numbers move the wrong way, you roll back first and ask questions later.",
    "Let me show you what that looked like for us last spring.",
    "We had a service that answered search requests for a large online library.",
    "Every Friday afternoon the latency doubled, and nobody knew why.",
    "It turned out that a weekly report read the whole catalogue from the primary database.",
    "Moving that report to a replica took one line of configuration and ended the problem.",
    "The lesson is simple. Measure before you guess, and guess before you change.",
    "Another habit that helped us is writing the runbook while the incident is still fresh.",
    "Nobody enjoys writing documents at two in the morning, but the next person will thank you.",
    "We also learned to keep our alerts few and meaningful.",
    "An alert that fires every day is an alert that everybody ignores.",
    "Finally, make it safe to say that you do not understand something.",
    "The best question in a review is often the simplest one. Why does this work?",
    "Thank you for listening. I am happy to take your questions now.",
)
TranscribeOffline = Callable[[Audio], str]
# The corpus transcripts of these are upper case or lower case without punctuation; as published they read so.
WRITTEN = {
    "spk1_snt1.wav": "The child almost hurt the small dog.",
    "spk1_snt2.wav": "Drop the two when you add the figures.",
    "spk1_snt3.wav": "At that high level the air is pure.",
    "spk1_snt4.wav": "A thin stripe runs down the middle.",
    "spk1_snt5.wav": "Sunday is the best part of the week.",
    "1089-134686-0000.flac": "He hoped there would be stew for dinner, turnips and carrots and bruised potatoes and "
    "fat mutton pieces to be ladled out in thick peppered flour-fattened sauce.",
    "1089-134686-0001.flac": "Stuff it into you, his belly counselled him.",
    "1089-134691-0000.flac": "He could wait no longer.",
    "1089-134691-0001.flac": "For a full hour he had paced up and down, waiting, but he could wait no longer.",
}
PAUSES_S = (1.0, 0.8, 1.4, 1.0, 2.0)  # after each utterance in turn: talks are not evenly paced


@dataclass(frozen=True)
class Utterance:
    start: float  # seconds into the cycle
    end: float
    reference: str  # what was said, as written: cased and punctuated
    offline: str  # what offline faster-whisper (whole utterance, beam search) writes for it


@dataclass(frozen=True)
class TalkProgram:
    cycle: Audio
    utterances: tuple[Utterance, ...]
    pauses: tuple[tuple[float, float], ...] = ()  # silences long enough for an endpoint, in cycle seconds

    def at_pause(self, talk_time: float) -> bool:
        """A pause begins at ``talk_time`` (word times are approximate: within a few tenths of a second)."""
        t = talk_time % self.cycle_s
        return any(start - 0.4 <= t <= start + 0.6 for start, _ in self.pauses)

    @property
    def cycle_s(self) -> float:
        return len(self.cycle) / SAMPLE_RATE

    def audio_between(self, start_sample: int, end_sample: int) -> Audio:
        """Samples ``start_sample`` to ``end_sample`` of the endless talk (the cycle repeated)."""
        size = len(self.cycle)
        indices = np.arange(start_sample, end_sample) % size
        return self.cycle[indices]


def synthesise(voice: str, speed: int, text: str, cache: Path) -> Audio:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("soak: espeak-ng is needed for the synthetic part of the talk (make system)")
    key = hashlib.sha256(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
    path = cache / f"espeak-{key}.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return load_audio(path)


def build_program(corpus: SpeechCorpus, cache: Path, transcribe: TranscribeOffline) -> TalkProgram:
    """Real recordings and synthetic sentences interleaved, trimmed to whole utterances within ``CYCLE_S``."""
    sentences = [(text, VOICES[i % len(VOICES)]) for i, text in enumerate(SYNTHETIC)]
    second = [(text, VOICES[(i + 1) % len(VOICES)]) for i, text in enumerate(SYNTHETIC)]
    pieces: list[tuple[Audio, str]] = []
    for voiced in (sentences, second):  # twice, other voices the second time: sentences recur within a cycle
        queue = list(voiced)
        for name in RECORDINGS:
            pieces.append((load_audio(corpus.path(name)), WRITTEN.get(name, corpus.reference(name))))
            for text, (voice, speed) in queue[:2]:
                pieces.append((synthesise(voice, speed, text, cache), text))
            queue = queue[2:]
        pieces += [(synthesise(voice, speed, text, cache), text) for text, (voice, speed) in queue]
    return assemble(pieces, transcribe, CYCLE_S)


def assemble(pieces: list[tuple[Audio, str]], transcribe: TranscribeOffline, cycle_s: float) -> TalkProgram:
    """Utterances with the program's pauses after each, as many whole ones as fit in ``cycle_s`` (silence
    fills the rest)."""
    audio: list[Audio] = []
    utterances: list[Utterance] = []
    at = 0
    for index, (speech, reference) in enumerate(pieces):
        pause = np.zeros(round(PAUSES_S[index % len(PAUSES_S)] * SAMPLE_RATE), np.float32)
        if at + len(speech) + len(pause) > cycle_s * SAMPLE_RATE:
            break
        utterances.append(
            Utterance(at / SAMPLE_RATE, (at + len(speech)) / SAMPLE_RATE, reference, transcribe(speech))
        )
        audio += [speech, pause]
        at += len(speech) + len(pause)
    audio.append(np.zeros(round(cycle_s * SAMPLE_RATE) - at, np.float32))
    cycle = np.concatenate(audio)
    return TalkProgram(cycle, tuple(utterances), pauses_in(cycle, Settings()))


def pauses_in(audio: Audio, settings: Settings) -> tuple[tuple[float, float], ...]:
    """Where the engine's endpoint rule (its VAD, threshold with hysteresis, ``endpoint_silence_s``) finds a
    pause between stretches of speech: (start, end) of each silence, in seconds."""
    probabilities = StreamingVad().push(audio).values
    threshold, least = settings.vad_threshold, round(settings.endpoint_silence_s * SAMPLE_RATE / WINDOW)
    pauses, speaking, silent_from, spoken = [], False, 0, False
    for index, probability in enumerate(probabilities):
        speaking = probability >= threshold or (speaking and probability >= threshold - HYSTERESIS)
        if speaking:
            if spoken and index - silent_from >= least:
                pauses.append((silent_from * WINDOW / SAMPLE_RATE, index * WINDOW / SAMPLE_RATE))
            spoken, silent_from = True, index + 1
    return tuple(pauses)


# --- scoring ---------------------------------------------------------------------------------------------

_STYLED_TOKEN = re.compile(r"[\w']+|[.?!,;:]")


@dataclass(frozen=True)
class Said:
    """A final caption as it reached the measuring end: its words and talk times."""

    text: str
    start: float
    end: float


def utterance_finals(program: TalkProgram, finals: list[Said], cycle_index: int) -> list[list[Said]]:
    """The finals of one cycle, split into the program's utterances by where each final's middle falls."""
    base = cycle_index * program.cycle_s
    split: list[list[Said]] = [[] for _ in program.utterances]
    # Mid-pause: word times are approximate, a final's may start a little before its utterance does.
    pairs = zip(program.utterances, program.utterances[1:], strict=False)
    bounds = [(before.end + after.start) / 2 for before, after in pairs] + [program.cycle_s]
    for final in finals:
        middle = (final.start + final.end) / 2 - base
        if 0 <= middle < program.cycle_s:
            split[next(i for i, bound in enumerate(bounds) if middle < bound)].append(final)
    return split


def utterance_texts(program: TalkProgram, finals: list[Said], cycle_index: int) -> list[str]:
    return [" ".join(f.text for f in said) for said in utterance_finals(program, finals, cycle_index)]


def styled_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate that counts case and sentence punctuation: "Ask not!" against "ask not" is two errors."""
    ref = " ".join(_STYLED_TOKEN.findall(reference))
    hyp = " ".join(_STYLED_TOKEN.findall(hypothesis))
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp or "<empty>"))


def lost_its_start(heard: str, streamed: str) -> bool:
    """Words at the start of ``heard`` (a reference or offline transcript) that the stream lacks: two or more
    words before the first word both share, beyond what the stream has there. One word of disagreement is a
    recognition error; the losses long talks showed were whole phrases."""
    said, got = normalise(heard).split(), normalise(streamed).split()
    if not said:
        return False
    if not got:
        return True
    first = SequenceMatcher(a=said, b=got, autojunk=False).get_matching_blocks()[0]
    if not first.size:
        return len(said) >= 2
    return first.a - first.b >= 2


def inner_sentence_ends(program: TalkProgram, utterance: Utterance, finals: list[Said]) -> list[str]:
    """Sentence ends the stream wrote inside a sentence of the reference where the offline transcript has none
    and the speaker did not pause (a pause is an endpoint, which may end a caption's sentence). Words the stream
    shares with neither are recognition differences, not counted."""
    got: list[tuple[str, bool]] = []
    for final in finals:
        words = _marked_words(final.text)
        if words and program.at_pause(final.end):
            words[-1] = (words[-1][0], False)  # an endpoint's punctuation is the speech's
        got += words
    found = []
    agree = [
        _ends_by_alignment(_marked_words(text), got) for text in (utterance.reference, utterance.offline)
    ]
    for index, (word, ends) in enumerate(got[:-1]):
        verdicts = [ends_there[index] for ends_there in agree if index in ends_there]
        if ends and verdicts and not any(verdicts):
            found.append(word)
    return found


def _ends_by_alignment(heard: list[tuple[str, bool]], got: list[tuple[str, bool]]) -> dict[int, bool]:
    """For each streamed word that ``heard`` shares: whether ``heard`` ends a sentence there."""
    matcher = SequenceMatcher(a=[w for w, _ in heard], b=[w for w, _ in got], autojunk=False)
    return {b + k: heard[a + k][1] for a, b, size in matcher.get_matching_blocks() for k in range(size)}


def _marked_words(text: str) -> list[tuple[str, bool]]:
    """Each word, and whether it ends a sentence."""
    marked = [(normalise(token), ends_sentence(token)) for token in text.split()]
    return [(word, ends) for word, ends in marked if word]

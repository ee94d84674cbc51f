"""Beam search while the machine keeps up, greedy decodes once decodes wait for a thread: two greedy decodes of
nearly the same sound agree on words Whisper misheard, and a beam of 5 costs a tenth to a fifth more per decode
(measured: 30 ms at p50, 65 ms at p95), which a loaded machine would pay in every room's latency."""

from __future__ import annotations

from typing import Any

from captions.asr.decoder import DecodeResult, WindowDecoder
from captions.asr.engine import Engine
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, load_audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import Word
from captions.settings import Settings
from tests.support.model_calls import watched
from tests.support.speech import SpeechCorpus

# 7 s read without a pause: one utterance, decoded again and again as it goes on.
LONG_UTTERANCE = "librivox-sense-and-sensibility-0870.flac"


class RecordsBeams:
    """Hears a word every 0.4 s and notes the beam each decode asked for."""

    def __init__(self) -> None:
        self.beams: list[int | None] = []

    def decode(self, audio: Audio, offset_s: float, prompt: str, **options: Any) -> DecodeResult:
        self.beams.append(options.get("beam_size"))
        seconds = len(audio) / SAMPLE_RATE
        return DecodeResult(
            [
                Word(f" w{n}", offset_s + n * 0.4, offset_s + n * 0.4 + 0.3, 0.9)
                for n in range(int(seconds / 0.4))
            ]
        )


def test_a_stream_searches_with_the_beam_while_decodes_keep_up_and_greedily_while_they_wait(
    speech: SpeechCorpus,
) -> None:
    settings = Settings(beam_size=5, loaded_beam_size=1)
    decoder = RecordsBeams()
    backlog = [0.0]
    recognizer = StreamingRecognizer(
        decoder,  # type: ignore[arg-type]  # scripted stand-in for WindowDecoder
        settings,
        load=lambda: backlog[0],
    )
    frames = list(split_frames(load_audio(speech.path(LONG_UTTERANCE)), 0.1))
    half = len(frames) // 2
    for frame in frames[:half]:
        recognizer.push(frame)
    idle = len(decoder.beams)
    backlog[0] = 1.0
    for frame in frames[half:]:
        recognizer.push(frame)

    idle_beams, loaded_beams = decoder.beams[:idle], decoder.beams[idle:]
    assert len(idle_beams) >= 3, decoder.beams
    assert set(idle_beams) == {5}, decoder.beams
    assert loaded_beams, "the stream went on decoding under load"
    assert set(loaded_beams) == {1}, decoder.beams


def test_the_window_decoder_searches_with_the_beam_it_is_asked_for(
    engine: Engine, speech: SpeechCorpus
) -> None:
    whisper, recording = watched(engine.model)
    decoder = WindowDecoder(whisper, Settings(beam_size=3))
    audio = load_audio(speech.path("spk1_snt1.wav"))

    greedy = decoder.decode(audio, beam_size=1)
    searched = decoder.decode(audio, beam_size=5)
    default = decoder.decode(audio)

    assert recording.beams == [1, 5, 3]
    assert [bool(result.words) for result in (greedy, searched, default)] == [True, True, True]

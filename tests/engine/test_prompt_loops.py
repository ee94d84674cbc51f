"""A prompt that makes Whisper loop: the window is decoded again without it, on the same encoding, and the rest of
the buffer it looped on goes without it instead of looping at every step."""

from __future__ import annotations

import numpy as np

from captions.asr.decoder import DecodeResult, WindowDecoder
from captions.asr.engine import Engine
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, load_audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import Resume, Word
from captions.settings import Settings
from tests.support.model_calls import watched
from tests.support.speech import SpeechCorpus

EARLIER = "Earlier in the talk."
# Before the first second and a half of spk1_snt1, this talk so far makes tiny.en repeat itself.
LOOPING_PROMPT = (
    "He could wait no longer. And so my fellow Americans, ask not what your country can do for you."
)


def test_a_window_the_prompt_makes_loop_is_decoded_again_without_it_on_the_same_encoding(
    engine: Engine, speech: SpeechCorpus
) -> None:
    whisper, counting = watched(engine.model)
    decoder = WindowDecoder(whisper, engine.settings)
    audio = load_audio(speech.path("spk1_snt1.wav"))[: round(1.5 * SAMPLE_RATE)]

    result = decoder.decode(audio, 0.0, LOOPING_PROMPT, retry_loops=False)

    assert result.prompt_dropped, result
    assert not result.looped, result
    assert counting.encodes == 1, "the retry without the prompt must reuse the window's encoding"
    unprompted = decoder.decode(audio, 0.0, "", retry_loops=False)
    assert [w.text for w in result.words] == [w.text for w in unprompted.words] != []
    assert not unprompted.prompt_dropped


class LoopsOnItsSecondPromptedDecode:
    """Hears a word every half second; its second decode with a prompt is one where the prompt made it loop."""

    def __init__(self) -> None:
        self.prompts: list[tuple[float, str]] = []  # (offset of the buffer, prompt) per decode

    def decode(self, audio: Audio, offset_s: float, prompt: str, **_: object) -> DecodeResult:
        self.prompts.append((offset_s, prompt))
        seconds = len(audio) / SAMPLE_RATE
        words = [
            Word(f" w{n}", offset_s + n * 0.5, offset_s + n * 0.5 + 0.4, 0.9)
            for n in range(int(seconds / 0.5))
        ]
        looped = bool(prompt) and sum(1 for _, p in self.prompts if p) == 2
        return DecodeResult(words, prompt_dropped=looped)


def two_sentences(speech: SpeechCorpus) -> Audio:
    pause = np.zeros(SAMPLE_RATE, np.float32)
    return np.concatenate(
        [load_audio(speech.path("spk1_snt1.wav")), pause, load_audio(speech.path("spk1_snt2.wav")), pause]
    )


def test_after_a_prompt_loops_the_buffer_is_decoded_without_it_and_the_next_utterance_has_it_again(
    speech: SpeechCorpus,
) -> None:
    decoder = LoopsOnItsSecondPromptedDecode()
    recognizer = StreamingRecognizer(
        decoder,  # type: ignore[arg-type]  # scripted stand-in for WindowDecoder
        Settings(),
        resume=Resume(at=0.0, committed_end=0.0, prompt=EARLIER),
    )
    for frame in split_frames(two_sentences(speech), 0.1):
        recognizer.push(frame)

    buffers = sorted({offset for offset, _ in decoder.prompts})
    assert len(buffers) >= 2, f"two utterances, each its own buffer: {decoder.prompts}"
    first = [prompt for offset, prompt in decoder.prompts if offset == buffers[0]]
    assert len(first) >= 4, first
    assert first[:2] == [EARLIER, EARLIER], first
    assert first[2:] == [""] * (len(first) - 2), (
        "the prompt that looped must not be tried again on this buffer"
    )
    later = [prompt for offset, prompt in decoder.prompts if offset > buffers[0]]
    assert later, decoder.prompts
    assert all(later), f"a new utterance is decoded with the talk so far again: {later}"

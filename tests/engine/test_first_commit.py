"""The first words of an utterance: Whisper guesses them from too little sound at first, and two early guesses can
agree ("How do you marry" for "Had he married"). Before ``first_commit_s`` of the utterance only words it was sure
of are committed; its unsure guesses are shown, and wait for the decodes that hear more."""

from __future__ import annotations

from captions.asr.decoder import DecodeResult
from captions.asr.streaming import StreamingRecognizer
from captions.audio.pcm import Audio, load_audio, split_frames
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import Word
from captions.settings import Settings
from tests.support.speech import SpeechCorpus

# 7 s read without a pause: one utterance, decoded again and again as it goes on.
LONG_UTTERANCE = "librivox-sense-and-sensibility-0870.flac"


class GuessesEarly:
    """Hears a word every 0.4 s; a window shorter than ``sure_from_s`` is heard wrong, the same way each time,
    with the low probabilities Whisper gives its guesses."""

    def __init__(self, sure_from_s: float) -> None:
        self.sure_from_s = sure_from_s

    def decode(self, audio: Audio, offset_s: float, prompt: str, **_: object) -> DecodeResult:
        seconds = len(audio) / SAMPLE_RATE
        name, probability = ("word", 0.9) if seconds >= self.sure_from_s else ("guess", 0.15)
        return DecodeResult(
            [
                Word(f" {name}{n}", offset_s + n * 0.4, offset_s + n * 0.4 + 0.3, probability)
                for n in range(int(seconds / 0.4))
            ]
        )


def test_unsure_early_guesses_are_shown_but_only_what_enough_sound_agrees_on_becomes_final(
    speech: SpeechCorpus,
) -> None:
    settings = Settings()
    recognizer = StreamingRecognizer(
        GuessesEarly(settings.first_commit_s),  # type: ignore[arg-type]  # scripted stand-in for WindowDecoder
        settings,
    )
    events = [
        event
        for frame in split_frames(load_audio(speech.path(LONG_UTTERANCE)), 0.1)
        for event in recognizer.push(frame)
    ]
    finals = [event for event in events if event.kind == "final"]
    partials = " ".join(event.text for event in events if event.kind == "partial")
    assert "guess" in partials, "the early guesses are shown while they are all there is"
    assert len(finals) >= 3, "the utterance has finals while it goes on, not only at its end"
    assert not any("guess" in event.text for event in finals), [event.text for event in finals]
    assert finals[0].text.split()[0] == "Word0", "no word of the utterance is skipped"


def test_words_whisper_is_sure_of_are_final_before_first_commit_s(speech: SpeechCorpus) -> None:
    settings = Settings()
    recognizer = StreamingRecognizer(
        GuessesEarly(0.0),  # type: ignore[arg-type]  # sure of every window
        settings,
    )
    audio = load_audio(speech.path(LONG_UTTERANCE))
    first = next(
        event
        for frame in split_frames(audio, 0.1)
        for event in recognizer.push(frame)
        if event.kind == "final"
    )
    assert first.text.startswith("Word0")
    assert first.audio_position < settings.first_commit_s, "sure words need not wait for more sound"

"""The streaming engine on real speech through the real model."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from captions.asr.engine import Engine
from captions.asr.streaming import StreamingRecognizer
from captions.asr.words import repeats_itself
from captions.audio.pcm import AudioFormatError, float32_to_pcm16, load_audio, split_frames
from captions.audio.vad import WINDOW
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent, RestartPoint, Resume
from captions.settings import Settings
from captions.simulation import simulate
from tests.support.speech import SpeechCorpus, normalise, word_error_rate


def finals(events: list[CaptionEvent]) -> list[CaptionEvent]:
    return [e for e in events if e.kind == "final"]


def final_text(events: list[CaptionEvent]) -> str:
    return " ".join(e.text for e in finals(events))


async def stream(engine: Engine, audio: np.ndarray) -> list[CaptionEvent]:
    return [t.event for t in await simulate(engine, audio, realtime=False)]


@pytest.fixture(scope="module")
async def jfk_events(engine: Engine, speech: SpeechCorpus) -> list[CaptionEvent]:
    return await stream(engine, load_audio(speech.path("jfk.wav")))


def test_jfk_finals_match_the_reference(jfk_events: list[CaptionEvent], speech: SpeechCorpus) -> None:
    assert word_error_rate(speech.reference("jfk.wav"), final_text(jfk_events)) <= 0.15


def test_finals_are_emitted_once_in_order_and_never_overlap(jfk_events: list[CaptionEvent]) -> None:
    done = finals(jfk_events)
    assert len(done) >= 2, "a 11 s sentence should settle in several steps, not only at the end"
    assert [e.id for e in done] == list(range(len(done)))
    for before, after in itertools.pairwise(done):
        assert after.start >= before.end - 0.1
        assert after.audio_position >= before.audio_position
    assert all(e.text.strip() and e.words for e in done)


def test_partials_come_before_their_final_and_end_up_covered(jfk_events: list[CaptionEvent]) -> None:
    final_ids = {e.id for e in finals(jfk_events)}
    settled: set[int] = set()
    partial_words: list[str] = []
    for event in jfk_events:
        if event.kind == "final":
            settled.add(event.id)
        else:
            assert event.id not in settled, "a partial may not replace a final"
            partial_words += normalise(event.text).split()
    assert partial_words, "live speech should show partial captions before they settle"
    last = jfk_events[-1]
    assert last.kind == "final" or last.text == "", "the stream must end with nothing left unsettled"
    assert max(e.id for e in jfk_events if e.kind == "partial" and e.text) in final_ids
    final_words = set(normalise(final_text(jfk_events)).split())
    covered = sum(word in final_words for word in partial_words) / len(partial_words)
    assert covered >= 0.8, f"partials should mostly be the words that became final ({covered:.0%})"


@pytest.mark.parametrize("frame_s", [0.01, 1.0])
async def test_frames_from_10_ms_to_1_s_give_the_same_quality(
    engine: Engine, speech: SpeechCorpus, frame_s: float
) -> None:
    audio = load_audio(speech.path("jfk.wav"))
    events = [t.event for t in await simulate(engine, audio, realtime=False, frame_s=frame_s)]
    assert word_error_rate(speech.reference("jfk.wav"), final_text(events)) <= 0.15


@pytest.mark.parametrize(
    "make_audio",
    [
        pytest.param(lambda: np.zeros(10 * SAMPLE_RATE, np.float32), id="silence"),
        pytest.param(
            lambda: np.random.default_rng(7).normal(0, 0.1, 10 * SAMPLE_RATE).astype(np.float32),
            id="white-noise",
        ),
    ],
)
async def test_no_text_without_speech(engine: Engine, make_audio: Callable[[], np.ndarray]) -> None:
    events = await stream(engine, make_audio())
    assert [e.text for e in events if e.text] == []


async def test_bad_frames_are_rejected_or_ignored_and_the_stream_goes_on(
    engine: Engine, speech: SpeechCorpus
) -> None:
    session = engine.open_stream(coalesce=False)
    with pytest.raises(AudioFormatError) as odd:
        await session.feed(b"\x01\x02\x03")
    assert odd.value.code == "bad_frame_length"
    await session.feed(b"")
    garbage = np.random.default_rng(3).integers(0, 256, 16_000, dtype=np.uint8).tobytes()
    for start in range(0, len(garbage), 3200):
        await session.feed(garbage[start : start + 3200])
    for frame in split_frames(load_audio(speech.path("jfk.wav")), 0.1):
        await session.feed(float32_to_pcm16(frame))
    await session.finish()
    events = [e async for e in session.events()]
    text = final_text(events)
    assert word_error_rate(speech.reference("jfk.wav"), text) <= 0.25, text


async def test_four_concurrent_streams_match_one_stream_alone(
    engine: Engine, speech: SpeechCorpus, jfk_events: list[CaptionEvent]
) -> None:
    audio = load_audio(speech.path("jfk.wav"))
    runs = await asyncio.gather(*(stream(engine, audio) for _ in range(4)))
    alone = [(e.id, e.text, e.start, e.end) for e in finals(jfk_events)]
    for run in runs:
        assert [(e.id, e.text, e.start, e.end) for e in finals(run)] == alone


async def test_a_pause_ends_the_sentence_and_silence_stays_empty(
    engine: Engine, synthesise: Callable[[str], Path]
) -> None:
    first = load_audio(synthesise("Please remember to bring your umbrella tomorrow."))
    second = load_audio(synthesise("The meeting starts at nine in the morning."))
    gap_start = len(first) / SAMPLE_RATE
    audio = np.concatenate([first, np.zeros(3 * SAMPLE_RATE, np.float32), second])
    events = await stream(engine, audio)
    done = finals(events)
    before = [e for e in done if e.end <= gap_start + 0.3]
    after = [e for e in done if e.start >= gap_start + 2.5]
    assert before, "the first sentence should settle"
    assert after, "the second sentence should settle"
    assert len(before) + len(after) == len(done), "nothing may be captioned in the silence between them"
    assert max(e.audio_position for e in before) < gap_start + 1.5, (
        "the pause should settle the first sentence"
    )
    assert "umbrella" in normalise(" ".join(e.text for e in before))
    assert "morning" in normalise(" ".join(e.text for e in after))


def test_buffer_stays_bounded_in_continuous_speech(engine: Engine, speech: SpeechCorpus) -> None:
    settings = Settings(max_buffer_s=6.0)
    recognizer = StreamingRecognizer(engine.decoder(), settings)
    names = sorted(name for name in speech.transcripts if name.startswith("1089-"))
    audio = np.concatenate([load_audio(speech.path(name)) for name in names])
    longest = 0.0
    events: list[CaptionEvent] = []
    for frame in split_frames(audio, 0.1):
        events += recognizer.push(frame)
        longest = max(longest, recognizer.buffered_seconds)
    events += recognizer.finish()
    reference = " ".join(speech.reference(name) for name in names)
    # Trimming cuts behind committed words; the words not yet agreed on (a second or so) stay.
    assert 4.0 < longest <= settings.max_buffer_s + 1.5, longest
    assert word_error_rate(reference, final_text(events)) <= 0.2


def test_a_loaded_stream_does_not_caption_what_whisper_wrote_without_hearing(
    engine: Engine, speech: SpeechCorpus
) -> None:
    """Under load a stream decodes every 1.2 s (three times ``step_s``). Over the pause after "ask what you can
    do for your country" Whisper then wrote the sentence again with no duration for any of its words, and the
    endpoint made it final: "... your country. I ask what you can do for your country." Such words are not
    in the audio and must not reach a caption."""
    names = [
        "1089-134686-0001.flac",
        "1089-134691-0000.flac",
        "1089-134691-0001.flac",
        "jfk.wav",
        "spk1_snt1.wav",
    ]
    pause = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([part for name in names for part in (load_audio(speech.path(name)), pause)])
    recognizer = StreamingRecognizer(engine.decoder(), Settings(step_s=1.2))
    events: list[CaptionEvent] = []
    for frame in split_frames(audio, 0.1):
        events += recognizer.push(frame)
    events += recognizer.finish()
    said = final_text(events)
    assert normalise(said).count("ask what you can do for your country") == 1, said
    assert word_error_rate(" ".join(speech.reference(name) for name in names), said) <= 0.1, said


async def test_a_stream_resumed_from_a_settled_point_neither_repeats_nor_skips(
    engine: Engine, speech: SpeechCorpus
) -> None:
    """What a transcriber taking over a room does: restart at the last settled point of a final, with the
    words up to that final's end already committed."""
    audio = load_audio(speech.path("talk.wav"))
    whole = await stream(engine, audio)
    done = finals(whole)
    cut = done[len(done) // 2]
    assert cut.settled <= cut.start, "audio behind a final's words must stay available to a resumed stream"
    before = done[: done.index(cut) + 1]
    resume = Resume(at=cut.settled, committed_end=cut.end, prompt=" ".join(e.text for e in before))
    session = engine.open_stream(coalesce=False, resume=resume)
    for frame in split_frames(audio[round(cut.settled * SAMPLE_RATE) :], 0.1):
        await session.feed(float32_to_pcm16(frame))
    await session.finish()
    after = finals([e async for e in session.events()])
    assert after
    assert after[0].start >= cut.end - 0.1, "the resumed stream keeps the talk's clock"
    joined = " ".join(e.text for e in before + after)
    assert word_error_rate(final_text(whole), joined) <= 0.05, joined
    assert not repeats_itself(normalise(joined).split())


@pytest.mark.parametrize("handover_s", [3.4, 5.3, 8.1])
def test_a_stream_handed_over_mid_utterance_hears_the_utterance_again_from_its_start(
    engine: Engine, speech: SpeechCorpus, handover_s: float
) -> None:
    """A transcriber killed at any moment: the next one gets the audio from the last settled point, the finals
    stored so far and the restart point stored with them. It re-hears the utterance in progress from before its
    first word, its voice detector restarted where the first one's was (with what was said before as context):
    it hears the talk exactly as the first one did, so the transcript is the one without the handover."""
    audio = load_audio(speech.path("jfk.wav"))
    decoder = engine.decoder("en")

    def run(recognizer: StreamingRecognizer, samples: np.ndarray) -> list[CaptionEvent]:
        return [event for frame in split_frames(samples, 0.1) for event in recognizer.push(frame)]

    whole = StreamingRecognizer(decoder, engine.settings)
    uninterrupted = finals(run(whole, audio) + whole.finish())
    first = StreamingRecognizer(decoder, engine.settings)
    before = finals(run(first, audio[: round(handover_s * SAMPLE_RATE)]))
    mark = first.settled_mark()
    settled = mark.settled
    assert settled * SAMPLE_RATE % WINDOW == 0, "on the voice detector's grid"
    assert mark.listen_from is not None, "a restart point: the voice detector restarted there"
    in_progress = [e for e in uninterrupted if e.end > (before[-1].end if before else 0.0)]
    assert settled < in_progress[0].start, "the utterance in progress is heard again from its start"
    at = int(settled * 10) / 10  # the frame the next owner gets first
    resume = Resume.after(at, before, RestartPoint(settled, mark.listen_from))
    second = StreamingRecognizer(decoder, engine.settings, resume=resume)
    after = finals(run(second, audio[round(at * SAMPLE_RATE) :]) + second.finish())
    joined = " ".join(e.text for e in before + after)
    assert joined == final_text(uninterrupted)


async def test_a_resumed_stream_starts_a_sentence_where_the_stored_text_ended_one(
    engine: Engine, speech: SpeechCorpus
) -> None:
    """After a restart the stored finals are the prompt: an old lower-case one must not teach lower case."""
    audio = load_audio(speech.path("spk1_snt3.wav"))
    stored = "the child almost hurt the small dog. drop the two when you add the figures."
    session = engine.open_stream(coalesce=False, resume=Resume(at=60.0, committed_end=59.0, prompt=stored))
    for frame in split_frames(audio, 0.1):
        await session.feed(float32_to_pcm16(frame))
    await session.finish()
    resumed = finals([e async for e in session.events()])
    assert resumed
    assert resumed[0].start >= 60.0
    said = [e.text for e in resumed]
    assert resumed[0].text[:1].isupper(), said
    assert word_error_rate(speech.reference("spk1_snt3.wav"), " ".join(said)) <= 0.2, said

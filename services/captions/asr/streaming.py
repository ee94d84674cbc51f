"""The streaming recogniser: live audio in, partial and final captions out.

Policy, per stream:
- Silero VAD marks speech. Audio outside an utterance is dropped (but a short pre-roll), so silence and noise
  cost nothing and never reach Whisper (no "Thank you." on silence).
- During an utterance the buffer is decoded every ``step_s`` of new audio; LocalAgreement-2 commits the words
  two consecutive hypotheses agree on, the rest is the partial.
- A pause of ``endpoint_silence_s`` ends the utterance: one last decode, everything is committed at once, and
  the buffer restarts after the pause. So sentence ends do not wait for agreement.
- Long utterances are trimmed behind committed words once the buffer passes ``max_buffer_s``; the text before
  the buffer is given to Whisper as a prompt. Cost does not grow with the length of the talk.

This class is synchronous and holds the state of one stream; ``session.py`` runs it off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from captions.asr.agreement import LocalAgreement
from captions.asr.decoder import DecodeResult, WindowDecoder
from captions.asr.vocabulary import heard_terms
from captions.asr.words import context_prompt, ends_sentence, join_words
from captions.audio.pcm import Audio
from captions.audio.vad import WINDOW, StreamingVad
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent, CaptionKind, Resume, Word
from captions.settings import Settings

PRE_ROLL_S = 0.5
# A stream resumed at its settled point (another transcriber taking the room over) hears this much before the
# utterance in progress: its voice detector starts cold and must be warm when the first word begins, or it
# cuts the word's onset ("Ask not" heard as "As. Knock").
RESUME_LEAD_S = 1.0
VAD_PRIME_S = 1.0
# Whisper's word times and the voice detector's speech differ by up to this much (utterances are an endpoint's
# pause apart, 0.5 s by default): how a resumed stream tells the finals of the utterance before from its own.
TIMING_MARGIN_S = 0.25
# A stream resumed in an utterance shorter than this re-hears it from its start, so it decodes and trims it as
# the stream before did; the audio of a longer one is let go of behind its committed text. It bounds the audio
# that is not settled: a presenter keeps 30 s to resend after a server restart, and the restart takes some.
MAX_REPLAY_S = 12.0
# A decode made this long after the last speech already heard the whole utterance: an endpoint reuses it.
REUSE_AFTER_SPEECH_S = 0.1
# Silence after speech from which a decode is made at once (not a step later): long enough that the gaps between
# words rarely trigger it, short enough that the decode is done before a pause becomes an endpoint.
SPEECH_STOPPED_S = 0.2
# Past this, an utterance with nothing agreed is committed as heard (Whisper's window is 30 s).
FORCE_COMMIT_S = 24.0
HYSTERESIS = 0.15
# Under load a stream's decode step grows up to this many times ``step_s``.
MAX_STEP_FACTOR = 4.0
# Whisper's prompt holds 223 tokens of earlier text and as many of hotwords: about 150 tokens of terms leave
# the decoder room for a window's words.
HOTWORDS_CHARS = 600


def _words_of(final: Word) -> list[Word]:
    """A stored final as words, their times spread over the final's (their own were not stored): a resumed
    stream compares them with what it hears word by word."""
    texts = final.text.split()
    step = (final.end - final.start) / max(len(texts), 1)
    return [
        Word(
            " " + text,
            final.start + index * step,
            final.end if index == len(texts) - 1 else final.start + (index + 1) * step,
            final.probability,
        )
        for index, text in enumerate(texts)
    ]


def hotwords(terms: Sequence[str]) -> str:
    """A room's terms as Whisper reads them best: a short comma-separated list, the first terms first."""
    text = ""
    for term in terms:
        joined = f"{text}, {term}" if text else term
        if len(joined) > HOTWORDS_CHARS:
            break
        text = joined
    return text


class StreamingRecognizer:
    def __init__(
        self,
        decoder: WindowDecoder,
        settings: Settings,
        vad: StreamingVad | None = None,
        resume: Resume | None = None,
        vocabulary: Sequence[str] = (),
        load: Callable[[], float] | None = None,
    ) -> None:
        self._decoder = decoder
        self._load = load  # work waiting per inference thread: the machine is behind when it passes 0
        self._vocabulary = tuple(vocabulary)
        self._hotwords = ""  # the vocabulary, once the talk has come near one of its terms
        self._settings = settings
        self._vad = vad or StreamingVad()
        self._buffer: Audio = np.zeros(0, np.float32)
        at = round(resume.at * SAMPLE_RATE) if resume else 0
        # Voice windows on the grid of the talk's first sample: a resumed stream hears the same windows, so it
        # finds the same utterances and decodes them at the same steps as the stream before it.
        origin = -(-at // WINDOW) * WINDOW
        self._skip = origin - at  # samples fed before the grid: not heard
        self._origin = origin  # absolute sample index where this recogniser's audio starts
        self._settled = origin
        self._silent_from = origin  # where the voice detector last heard an utterance end
        self._buffer_start = origin  # absolute sample index of _buffer[0]
        self._utterance_from = origin  # where the buffer of the utterance in progress began
        self._fed = origin
        self._in_utterance = False
        self._speech_now = False
        self._last_speech_end = 0
        self._last_decode_fed = 0
        self._last_hypothesis: list[Word] = []
        self._hypothesis_fed = 0  # audio the last usable hypothesis heard (a looped decode gives none)
        self._agreement = LocalAgreement()
        self._history: list[Word] = []  # committed words that left the buffer: the prompt
        # The prompt made this buffer's decodes loop: it would again at the next step (the same text before
        # nearly the same audio), so the buffer is decoded without it until it ends or is trimmed.
        self._prompt_loops = False
        # Finals of the stream before, placed in time: those said before the first utterance heard here are
        # its context; the others are heard again (and dropped as already final by ``committed_end``).
        self._earlier: list[Word] = []
        self._final_ends: set[float] = set()  # where the finals inside the buffer end
        # Where the stream before this one ended its last utterance before ``origin``: the voice detector, new
        # here, may still hear that utterance's last sound, which is not a new utterance.
        self._listen_from = origin
        if resume:
            self._agreement.committed_end = resume.committed_end
            margin = round(TIMING_MARGIN_S * SAMPLE_RATE)
            said_before = [final for final in resume.finals if final.end * SAMPLE_RATE <= origin + margin]
            if said_before:
                endpoint = round(said_before[-1].end * SAMPLE_RATE) + self._endpoint_samples
                self._listen_from = max(origin, -(-endpoint // WINDOW) * WINDOW)
                # Started cold, the detector misses a quiet first word ("Ask not" heard as "not"): it is primed.
                # Only where the last sound of the utterance before is known to be ignored: primed, it hears
                # that as speech ("Thank you.").
                self._vad.prime(np.zeros(round(VAD_PRIME_S * SAMPLE_RATE), np.float32))
            if resume.finals:
                self._earlier = [word for final in resume.finals for word in _words_of(final)]
                self._final_ends = {final.end for final in resume.finals}
                self._take_context_before(origin)
            elif resume.prompt:
                self._history = [Word(resume.prompt, resume.at, resume.at, 1.0)]
                self._agreement.sentence_ended = ends_sentence(resume.prompt)
        self._next_id = 0
        self._partial_text = ""

    def set_vocabulary(self, terms: Sequence[str]) -> None:
        """Terms for the decodes from now on (called from the event loop; a decode reads them once)."""
        self._vocabulary = tuple(terms)
        if self._hotwords:
            self._hotwords = hotwords(self._vocabulary)

    @property
    def urgent(self) -> bool:
        """The next push commits captions or costs little: outside speech it only runs the voice detector, and
        once speech has stopped its decode is the one the utterance's final will be made of."""
        return not self._in_utterance or self._speech_stopped

    @property
    def buffered_seconds(self) -> float:
        return len(self._buffer) / SAMPLE_RATE

    def settled_mark(self) -> CaptionEvent:
        """Where the stream stands: audio before ``settled`` is committed or silence."""
        return self._event("settled", [])

    def push(self, audio: Audio) -> list[CaptionEvent]:
        events: list[CaptionEvent] = []
        if self._skip:
            skipped = min(self._skip, len(audio))
            audio, self._skip = audio[skipped:], self._skip - skipped
        if not len(audio):
            return events
        self._buffer = np.concatenate([self._buffer, audio.astype(np.float32, copy=False)])
        self._fed += len(audio)
        probabilities = self._vad.push(audio)
        for index, probability in enumerate(probabilities.values, start=probabilities.first_window):
            window_start = self._origin + index * WINDOW
            window_end = window_start + WINDOW
            if self._is_speech(float(probability)) and window_start >= self._listen_from:
                self._last_speech_end = window_end
                if not self._in_utterance:
                    if self._earlier:
                        self._take_context_before(window_start)
                        self._earlier = []
                    self._in_utterance = True
                    floor = max(self._buffer_start, self._listen_from)
                    self._trim_to(max(floor, window_start - round(PRE_ROLL_S * SAMPLE_RATE)))
                    self._utterance_from = self._buffer_start
                    self._last_decode_fed = window_start
            elif self._in_utterance and window_end - self._last_speech_end >= self._endpoint_samples:
                events += self._end_utterance(window_end)
        if not self._in_utterance:
            self._trim_to(max(self._buffer_start, self._fed - round(PRE_ROLL_S * SAMPLE_RATE)))
        elif self._due_for_decode():
            events += self._decode_step()
        return events

    def finish(self) -> list[CaptionEvent]:
        """End of stream: whatever was heard becomes final."""
        if not self._in_utterance:
            return []
        return self._end_utterance(self._fed)

    # --- policy ------------------------------------------------------------------------------------------

    @property
    def _endpoint_samples(self) -> int:
        return round(self._settings.endpoint_silence_s * SAMPLE_RATE)

    def _is_speech(self, probability: float) -> bool:
        threshold = self._settings.vad_threshold
        self._speech_now = probability >= threshold or (
            self._speech_now and probability >= threshold - HYSTERESIS
        )
        return self._speech_now

    def _due_for_decode(self) -> bool:
        """Enough to decode, speech since the last decode (pauses cost nothing), and either enough new audio or
        the speech has just stopped: a decode then hears the whole utterance, so if the pause becomes an endpoint
        its final needs no decode of its own (the endpoint reuses this one)."""
        if len(self._buffer) < self._settings.first_decode_s * SAMPLE_RATE:
            return False
        if self._last_speech_end <= self._last_decode_fed:
            return False
        return self._fed - self._last_decode_fed >= self._step_samples() or self._speech_stopped

    @property
    def _speech_stopped(self) -> bool:
        return self._fed - self._last_speech_end >= SPEECH_STOPPED_S * SAMPLE_RATE

    def _step_samples(self) -> int:
        """``step_s`` when the machine keeps up (latency first); longer as work queues up (throughput), so
        partial refreshes give way to the decodes that commit captions."""
        load = self._load() if self._load is not None else 0.0
        factor = min(MAX_STEP_FACTOR, 1.0 + load)
        return round(self._settings.step_s * factor * SAMPLE_RATE)

    def _decode(self, end_sample: int, *, final: bool) -> DecodeResult:
        audio = self._buffer[: end_sample - self._buffer_start]
        prompt = "" if self._prompt_loops else context_prompt(self._history, self._settings.prompt_chars)
        offset = self._buffer_start / SAMPLE_RATE
        result = self._decoder.decode(audio, offset, prompt, retry_loops=final, hotwords=self._hotwords)
        self._prompt_loops = self._prompt_loops or result.prompt_dropped
        if self._hotwords or not self._vocabulary or not heard_terms(self._vocabulary, result.words):
            return result
        self._hotwords = hotwords(self._vocabulary)
        return self._decoder.decode(audio, offset, prompt, retry_loops=final, hotwords=self._hotwords)

    def _decode_step(self) -> list[CaptionEvent]:
        self._last_decode_fed = self._fed
        result = self._decode(self._fed, final=False)
        if result.looped:
            return []
        hypothesis = self._last_hypothesis = result.words
        self._hypothesis_fed = self._fed
        committed = self._agreement.insert(hypothesis)
        buffered_s = len(self._buffer) / SAMPLE_RATE
        if not committed and buffered_s >= FORCE_COMMIT_S:
            committed = self._agreement.commit_all(hypothesis)
        events = self._emit(committed, self._agreement.tail)
        if buffered_s > self._settings.max_buffer_s:
            self._trim_behind_committed()
        return events

    def _end_utterance(self, end_sample: int) -> list[CaptionEvent]:
        # Only a hypothesis that was made (not a decode that looped and was skipped) can stand for the utterance:
        # reusing an older one lost every word spoken after it.
        heard_all = self._hypothesis_fed >= self._last_speech_end + REUSE_AFTER_SPEECH_S * SAMPLE_RATE
        hypothesis = self._last_hypothesis if heard_all else self._decode(end_sample, final=True).words
        events = self._emit(self._agreement.commit_all(hypothesis), [])
        self._in_utterance = False
        self._silent_from = self._last_speech_end
        self._last_hypothesis = []
        self._trim_to(end_sample)
        self._agreement.restart(end_sample / SAMPLE_RATE)
        return events

    def _trim_behind_committed(self) -> None:
        """Cut the buffer at the end of a final that ends a sentence, else of the last final. Finals' ends are
        what a resumed stream knows of the stream before it: it cuts where that one did."""
        inside = self._agreement.committed
        if not inside:
            return
        ends = [w for w in inside if w.end in self._final_ends]
        cut = next((w for w in reversed(ends) if ends_sentence(w.text)), inside[-1])
        # At the millisecond, as finals are stored: the sample a resumed stream computes from the stored end.
        self._trim_to(round(round(cut.end, 3) * SAMPLE_RATE))

    def _trim_to(self, sample: int) -> None:
        drop = min(max(0, sample - self._buffer_start), len(self._buffer))
        if not drop:
            return
        self._prompt_loops = False
        self._buffer = self._buffer[drop:]
        self._buffer_start += drop
        start_s = self._buffer_start / SAMPLE_RATE
        leaving = [w for w in self._agreement.committed if w.end <= start_s]
        self._history = (self._history + leaving)[-200:]
        self._agreement.forget_before(start_s)
        self._final_ends = {end for end in self._final_ends if end > start_s}

    def _take_context_before(self, sample: int) -> None:
        """The earlier finals said before ``sample`` (where the first utterance heard here starts) are the
        prompt; those said after it are the utterance's committed words, as they were in the stream before: they
        join the prompt when the buffer is trimmed behind them, as they did there, so the decodes that follow
        read the same prompt as they would have."""
        # The utterance before ended at least an endpoint's pause earlier.
        before = sample - round(TIMING_MARGIN_S * SAMPLE_RATE)
        self._history = [word for word in self._earlier if word.end * SAMPLE_RATE <= before]
        self._agreement.committed = [word for word in self._earlier if word.end * SAMPLE_RATE > before]
        # Every new word comes after the last final, heard again or not.
        self._agreement.sentence_ended = ends_sentence(self._earlier[-1].text)

    def _settled_sample(self) -> int:
        """Audio before this is committed or silence. A stream resumed from here starts on the voice window grid,
        ``RESUME_LEAD_S`` before the utterance in progress (before its buffer, once the utterance is longer than
        ``MAX_REPLAY_S``) but after the speech of the utterance before: it re-hears the utterance from its start,
        the words already final dropped by ``committed_end``."""
        anchor = self._buffer_start
        if self._in_utterance and self._fed - self._utterance_from <= MAX_REPLAY_S * SAMPLE_RATE:
            anchor = self._utterance_from
        lead_from = max(anchor - round(RESUME_LEAD_S * SAMPLE_RATE), self._silent_from)
        self._settled = max(self._settled, min(lead_from, anchor) // WINDOW * WINDOW)
        return self._settled

    # --- events ------------------------------------------------------------------------------------------

    def _emit(self, committed: list[Word], tail: list[Word]) -> list[CaptionEvent]:
        events: list[CaptionEvent] = []
        if committed:
            events.append(self._event("final", committed))
            self._final_ends.add(committed[-1].end)
            self._next_id += 1
            self._partial_text = ""
        tail_text = join_words(tail)
        if tail_text != self._partial_text:
            events.append(self._event("partial", tail))
            self._partial_text = tail_text
        return events

    def _event(self, kind: CaptionKind, words: list[Word]) -> CaptionEvent:
        position = self._fed / SAMPLE_RATE
        start, end = (words[0].start, words[-1].end) if words else (position, position)
        settled = self._settled_sample() / SAMPLE_RATE
        return CaptionEvent(
            kind, self._next_id, join_words(words), start, end, tuple(words), position, settled
        )

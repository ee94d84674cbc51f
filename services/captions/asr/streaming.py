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

import math
from collections.abc import Callable, Sequence

import numpy as np

from captions.asr.agreement import LocalAgreement
from captions.asr.decoder import DecodeResult, WindowDecoder
from captions.asr.vocabulary import heard_terms
from captions.asr.words import context_prompt, ends_sentence, join_words
from captions.audio.pcm import Audio
from captions.audio.vad import WINDOW, SpeechProbabilities, StreamingVad
from captions.protocol import SAMPLE_RATE
from captions.recognizers.events import CaptionEvent, CaptionKind, Resume, Word
from captions.settings import Settings

PRE_ROLL_S = 0.5
# A stream resumed inside a long utterance (another transcriber taking the room over) hears this much before
# its buffer: its voice detector starts cold and must be warm when the next word begins, or it cuts the word's
# onset ("Ask not" heard as "As. Knock").
RESUME_LEAD_S = 1.0
# Silence a voice detector hears when it starts or restarts: a cold one misses a quiet first word.
VAD_PRIME_S = 1.0
# At each endpoint the voice detector restarts this long before the utterance's last speech and hears it again:
# its state after the pause is then that of a detector that has been listening (one restarted in the pause
# misses the next quiet onset, "Ask" heard as "Asp"), and a stream resumed there can have the very same.
RESTART_LEAD_S = 1.0
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
# A word either agreeing hypothesis gave less than this is one Whisper was unsure of: its early guesses score below
# it ("How" 0.11-0.19 for "Had"), words it hears score above it. Before ``first_commit_s`` of an utterance such a
# word is not committed; later it waits ``unsure_hold_s``.
UNSURE_PROBABILITY = 0.3
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


def _on_grid(sample: int) -> int:
    """The first voice window boundary at or after ``sample``."""
    return -(-sample // WINDOW) * WINDOW


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
        origin, listen_from, primed = self._starting_point(resume)
        at = round(resume.at * SAMPLE_RATE) if resume else 0
        self._skip = origin - at  # samples fed before the grid or the restart point: not heard
        self._origin = origin  # absolute sample index where this recogniser's audio starts
        self._settled = origin
        self._silent_from = origin  # where the voice detector last heard an utterance end
        self._restarted_at = origin  # where the voice detector last started afresh
        # No utterance starts before this: the end of the one before, whose last speech the voice detector
        # restarted at an endpoint hears again.
        self._listen_from = listen_from
        self._vad.restart(0, np.zeros(round(VAD_PRIME_S * SAMPLE_RATE) if primed else 0, np.float32))
        # Audio the voice detector may hear again when it restarts (the last RESTART_LEAD_S of speech and the
        # endpoint's pause): kept apart from the buffer, which a long utterance trims.
        self._heard: Audio = np.zeros(0, np.float32)
        self._heard_start = origin
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
        # Words ending before this were final before this stream started (an utterance's end never lowers it).
        self._final_before = max(resume.committed_end, listen_from / SAMPLE_RATE) if resume else 0.0
        self._agreement.committed_end = self._final_before
        if resume and resume.finals:
            self._earlier = [word for final in resume.finals for word in _words_of(final)]
            self._final_ends = {final.end for final in resume.finals}
            self._take_context_before(origin)
        elif resume and resume.prompt:
            self._history = [Word(resume.prompt, resume.at, resume.at, 1.0)]
            self._agreement.sentence_ended = ends_sentence(resume.prompt)
        self._next_id = 0
        self._partial_text = ""

    def _starting_point(self, resume: Resume | None) -> tuple[int, int, bool]:
        """Where a (resumed) stream's audio starts, where it may first hear an utterance start, and whether its
        voice detector is primed. Voice windows lie on the grid of the talk's first sample: a resumed stream hears
        the same windows as the stream before, so it finds the same utterances and decodes them at the same
        steps."""
        if resume is None:
            return 0, 0, True
        origin = _on_grid(round(resume.at * SAMPLE_RATE))
        restart = resume.restart
        if restart is not None and round(restart.at * SAMPLE_RATE) >= origin:
            # Where the stream before restarted its voice detector: from there on both hear the same.
            origin = _on_grid(round(restart.at * SAMPLE_RATE))
            return origin, max(origin, round(restart.listen_from * SAMPLE_RATE)), True
        margin = round(TIMING_MARGIN_S * SAMPLE_RATE)
        said_before = [final for final in resume.finals if final.end * SAMPLE_RATE <= origin + margin]
        if not said_before:
            # Primed, a detector that starts inside the last sound of an utterance hears it as speech ("Thank
            # you."): one resumed at an arbitrary point starts cold (but at the talk's start).
            return origin, origin, origin == 0
        # An endpoint's pause after the last final said before: that utterance's last sound is not a new one.
        endpoint = round(said_before[-1].end * SAMPLE_RATE) + self._endpoint_samples
        return origin, max(origin, _on_grid(endpoint)), True

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
        audio = audio.astype(np.float32, copy=False)
        self._buffer = np.concatenate([self._buffer, audio])
        self._remember(audio)
        self._fed += len(audio)
        events += self._listen(self._vad.push(audio))
        if not self._in_utterance:
            self._trim_to(max(self._buffer_start, self._fed - round(PRE_ROLL_S * SAMPLE_RATE)))
        elif self._due_for_decode():
            events += self._decode_step()
        return events

    def _remember(self, audio: Audio) -> None:
        """Keep what a restart of the voice detector in this push may hear again: this audio, and before it the
        lead, the endpoint's pause and the windows the detector has not finished."""
        keep = round(RESTART_LEAD_S * SAMPLE_RATE) + self._endpoint_samples + 2 * WINDOW
        drop = max(0, self._fed - keep - self._heard_start)
        self._heard = np.concatenate([self._heard[drop:], audio])
        self._heard_start += drop

    def _listen(self, probabilities: SpeechProbabilities) -> list[CaptionEvent]:
        """Follow the voice detector window by window: utterances start and end."""
        events: list[CaptionEvent] = []
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
                restart = self._restart_point()
                events += self._end_utterance(window_end)
                return events + self._restart_vad(restart)
        return events

    def _restart_point(self) -> int:
        """``RESTART_LEAD_S`` before the utterance's last speech, on the grid."""
        lead = self._last_speech_end - round(RESTART_LEAD_S * SAMPLE_RATE)
        return max(lead // WINDOW * WINDOW, _on_grid(self._heard_start))

    def _restart_vad(self, restart: int) -> list[CaptionEvent]:
        """Start the voice detector afresh at ``restart`` and hear again what came after it (the utterance that
        ended is over: ``_listen_from``). A stream resumed there starts it the same way."""
        self._restarted_at = restart
        self._speech_now = False
        prime = np.zeros(round(VAD_PRIME_S * SAMPLE_RATE), np.float32)
        self._vad.restart((restart - self._origin) // WINDOW, prime)
        return self._listen(self._vad.push(self._heard[restart - self._heard_start :]))

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

    def _beam_size(self) -> int:
        """``beam_size`` while the machine keeps up: two greedy decodes 0.3 s apart agree on words Whisper
        misheard, a beam of 5 does not as often (16 programmes streamed alone: WER 0.070 greedy, 0.045 with the
        beam, the offline floor's 0.047), for more work per decode. Once decodes wait for a thread that work
        would stretch every room's step and delay its finals: loaded streams decode with ``loaded_beam_size``,
        and their longer steps already hear more per decode."""
        busy = self._load is not None and self._load() > 0
        return self._settings.loaded_beam_size if busy else self._settings.beam_size

    def _decode(self, end_sample: int, *, final: bool) -> DecodeResult:
        audio = self._buffer[: end_sample - self._buffer_start]
        prompt = "" if self._prompt_loops else context_prompt(self._history, self._settings.prompt_chars)
        offset = self._buffer_start / SAMPLE_RATE
        beam = self._beam_size()
        result = self._decoder.decode(
            audio, offset, prompt, retry_loops=final, hotwords=self._hotwords, beam_size=beam
        )
        self._prompt_loops = self._prompt_loops or result.prompt_dropped
        if self._hotwords or not self._vocabulary or not heard_terms(self._vocabulary, result.words):
            return result
        self._hotwords = hotwords(self._vocabulary)
        return self._decoder.decode(
            audio, offset, prompt, retry_loops=final, hotwords=self._hotwords, beam_size=beam
        )

    def _decode_step(self) -> list[CaptionEvent]:
        self._last_decode_fed = self._fed
        result = self._decode(self._fed, final=False)
        if result.looped:
            return []
        hypothesis = self._last_hypothesis = result.words
        self._hypothesis_fed = self._fed
        # On the first second or two of an utterance Whisper guesses words from too little sound, and two such
        # guesses can agree ("How do you marry" for "Had he married"): they are committed then only where it was
        # sure of them, the rest waits for more sound.
        early = self._fed - self._utterance_from < self._settings.first_commit_s * SAMPLE_RATE
        hold_unsure_s = math.inf if early else self._settings.unsure_hold_s
        committed = self._agreement.insert(
            hypothesis, self._fed / SAMPLE_RATE, UNSURE_PROBABILITY, hold_unsure_s
        )
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
        self._listen_from = end_sample
        self._trim_to(end_sample)
        self._agreement.restart(max(end_sample / SAMPLE_RATE, self._final_before))
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

    def _settled_sample(self) -> tuple[int, int | None]:
        """Audio before this is committed or silence. Within ``MAX_REPLAY_S`` of the voice detector's last restart
        it is that restart, given with where the utterance before ended: a stream resumed with both restarts its
        detector there too and hears what this one heard after it, so it finds the same utterance and decodes it
        the same way. Past that (a long utterance, a long silence) it is ``RESUME_LEAD_S`` before the utterance
        in progress (before its buffer, once it is longer than ``MAX_REPLAY_S``) but after the speech of the
        utterance before, the words already final dropped by ``committed_end``."""
        replays = self._fed - self._restarted_at <= MAX_REPLAY_S * SAMPLE_RATE
        if replays and self._restarted_at >= self._settled:
            self._settled = self._restarted_at
            return self._settled, self._listen_from
        anchor = self._buffer_start
        if self._in_utterance and self._fed - self._utterance_from <= MAX_REPLAY_S * SAMPLE_RATE:
            anchor = self._utterance_from
        lead_from = max(anchor - round(RESUME_LEAD_S * SAMPLE_RATE), self._silent_from)
        self._settled = max(self._settled, min(lead_from, anchor) // WINDOW * WINDOW)
        return self._settled, None

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
        settled, listen_from = self._settled_sample()
        return CaptionEvent(
            kind,
            self._next_id,
            join_words(words),
            start,
            end,
            tuple(words),
            position,
            settled / SAMPLE_RATE,
            None if listen_from is None else listen_from / SAMPLE_RATE,
        )

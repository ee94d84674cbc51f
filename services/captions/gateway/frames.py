"""What an audio frame must be before it costs the room anything: whole PCM16 samples, not too large, not
too small (but for the last before a pause), numbered close to the frames before it."""

from __future__ import annotations

from captions.gateway.guard import ClientError
from captions.gateway.live import LiveRoom
from captions.protocol import BYTES_PER_SAMPLE, SAMPLE_RATE, AudioFrame
from captions.settings import Settings

# Two hours of 20 ms frames: a presenter's app back from the longest outage it may have dropped frames in.
MAX_SEQ_JUMP = 360_000


def frame_seconds(settings: Settings, live: LiveRoom, frame: AudioFrame) -> float:
    """The frame's length in seconds; ClientError for a frame the room must not take."""
    size = len(frame.pcm)
    if size > settings.max_frame_bytes:
        raise ClientError("frame_too_large", f"audio frames hold at most {settings.max_frame_bytes} bytes")
    if size % BYTES_PER_SAMPLE:
        raise ClientError("bad_frame_length", "PCM16 frames hold whole 2-byte samples")
    if size < (shortest := round(settings.min_frame_ms / 1000 * SAMPLE_RATE) * BYTES_PER_SAMPLE):
        # A frame costs the room its work (a bus message, a recogniser call) whatever it holds: tiny frames
        # would cost thousands of those a second within the audio budget. Only a stretch's last is short.
        # It never starts a session: a stretch of audio has a last frame only once it has begun.
        session = live.session
        if size == 0 or live.short_frame_sent or session.state != "live" or session.parked:
            raise ClientError(
                "frame_too_short",
                f"audio frames hold at least {settings.min_frame_ms:g} ms ({shortest} bytes), but for the last "
                "before a pause",
            )
        live.short_frame_sent = True
    if 0 <= live.session.last_seq < frame.seq - MAX_SEQ_JUMP:
        # Frames numbered up to it would all be taken as resent and dropped: the talk would go on unheard.
        raise ClientError("seq_jump", f"frame {frame.seq} is too far ahead of frame {live.session.last_seq}")
    return size / BYTES_PER_SAMPLE / SAMPLE_RATE

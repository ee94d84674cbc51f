"""When a presenter counts as away because its audio stopped mid-talk (``gateway/stalls.py``)."""

from __future__ import annotations

import time

from captions.gateway import stalls
from captions.gateway.live import LiveRoom
from captions.protocol import SessionState
from captions.roomstate.base import LiveSession

LIMIT_S = 2.0


def presented(state: SessionState = "live", quiet_for_s: float = 3.0) -> LiveRoom:
    """A room presented here whose last frame came ``quiet_for_s`` ago."""
    live = LiveRoom("room", "en", session=LiveSession("s1", state), presenter_sid="sid")
    live.last_audio_at = time.monotonic() - quiet_for_s
    return live


def test_a_live_talk_whose_audio_stopped_is_stalled_once_and_heard_again() -> None:
    live = presented()
    assert stalls.newly_stalled([live], LIMIT_S) == [live]
    assert stalls.newly_stalled([live], LIMIT_S) == [], "told once"
    assert stalls.heard(live), "its next frame ends the stall"
    assert not live.audio_stalled


def test_a_pause_recent_audio_or_none_yet_is_no_stall() -> None:
    assert stalls.newly_stalled([presented("paused")], LIMIT_S) == []
    assert stalls.newly_stalled([presented(quiet_for_s=0.5)], LIMIT_S) == []
    no_audio_yet = presented()
    stalls.quiet(no_audio_yet)  # browser recognition sends no audio at all
    assert stalls.newly_stalled([no_audio_yet], LIMIT_S) == []


async def test_a_presenter_held_up_by_the_bus_is_not_away() -> None:
    """A frame waiting out a Redis failover holds the presenter's next ones: its audio did not stop."""
    live = presented()
    async with live.sending:
        assert stalls.newly_stalled([live], LIMIT_S) == []
    assert stalls.newly_stalled([live], LIMIT_S) == [live]

"""A presenter whose audio stops mid-talk without Pause or Stop: its network dropped without closing the
connection (venue Wi-Fi gone, a laptop's lid shut), which the server would otherwise notice only at Engine.IO's
ping timeout, tens of seconds later. The audience is told within ``presenter_stall_s`` that the presenter is
reconnecting (the room's presence says the presenter is not connected); the next frame (the presenter's app
resends what it kept) brings it back. Only audio counts: a presenter using the browser's recognition sends text
when words come, and silence between them says nothing."""

from __future__ import annotations

import time

from captions.gateway.live import LiveRoom


def heard(live: LiveRoom) -> bool:
    """A frame came from the presenter: True when it ends a stall (the room must be told)."""
    live.last_audio_at = time.monotonic()
    if live.audio_stalled:
        live.audio_stalled = False
        return True
    return False


def quiet(live: LiveRoom) -> None:
    """No audio is due until the next frame: the session paused, stopped or (re)started, or the presenter's
    connection came or went."""
    live.last_audio_at = None
    live.audio_stalled = False


def newly_stalled(rooms: list[LiveRoom], limit_s: float) -> list[LiveRoom]:
    """The live rooms presented here whose audio stopped more than ``limit_s`` ago (marked stalled now)."""
    moment = time.monotonic()
    stalled = [
        live
        for live in rooms
        if live.leads
        and not live.audio_stalled
        and live.last_audio_at is not None
        and live.session.state == "live"
        # A frame waiting out a bus outage holds the next ones (handled in order): the presenter is there.
        and not live.sending.locked()
        and moment - live.last_audio_at > limit_s
    ]
    for live in stalled:
        live.audio_stalled = True
    return stalled

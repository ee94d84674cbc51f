"""A correction costs the presenter's event budget one token per final it replaces (issue #29): one event that
rewrites 50 finals makes 50 store writes and 50 broadcasts, and must not cost what a one-word fix does."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.abuse.conftest import LIMITS
from tests.support.abuse import AbuseTarget

Address = Callable[[], str]
EVENT_RATE, EVENT_BURST = float(LIMITS["CAPTIONS_EVENT_RATE"]), float(LIMITS["CAPTIONS_EVENT_BURST"])
FINALS = 10


async def test_a_correction_costs_one_event_per_final_it_replaces(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    started = time.monotonic()
    for n in range(FINALS):
        await speaker.emit("text", {"kind": "final", "text": f"Word {n}."})
    await speaker.wait_for(lambda: len(speaker.finals) == FINALS)
    first, last = speaker.finals[0]["id"], speaker.finals[-1]["id"]
    tries = 20
    for _ in range(tries):
        await speaker.emit("correct", {"id": first, "through": last, "text": "One sentence instead."})
    await speaker.wait_for(
        lambda: (
            len([c for c in speaker.captions if c["kind"] == "correction"])
            + sum(e["code"] == "rate_limited" for e in speaker.errors)
            >= tries
        )
    )
    corrected = [c for c in speaker.captions if c["kind"] == "correction"]
    assert all(c["through"] == last for c in corrected), "each is broadcast as one event"
    taken = len(corrected)
    allowed = EVENT_BURST + EVENT_RATE * (time.monotonic() - started)  # however slow the machine
    assert FINALS + taken * FINALS <= allowed + FINALS, f"{taken} corrections of {FINALS} finals taken"
    assert taken < tries, "some were refused"
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.disconnect()

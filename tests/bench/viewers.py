"""A process full of viewers: connects COUNT Socket.IO viewers to a room, records when captions arrive.

Run by the fan-out benchmark (``python -m tests.bench.viewers URL ROOM COUNT``). Prints ``ready`` once every
viewer is connected, then, when stdin closes, one JSON line: delivery latency of every caption whose text
carries its send time (``t=<epoch seconds>``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import socketio


async def main(url: str, room: str, count: int) -> None:
    latencies: list[float] = []

    def on_caption(caption: dict[str, object]) -> None:
        text = str(caption.get("text", ""))
        if caption.get("kind") == "final" and text.startswith("t="):
            latencies.append(time.time() - float(text[2:]))

    clients = []
    for start in range(0, count, 50):
        batch = []
        for _ in range(min(50, count - start)):
            client = socketio.AsyncClient(reconnection=False)
            client.on("caption", on_caption)
            batch.append(client.connect(url, auth={"room": room, "role": "viewer"}, transports=["websocket"]))
            clients.append(client)
        await asyncio.gather(*batch)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"latencies": latencies, "viewers": count}), flush=True)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))

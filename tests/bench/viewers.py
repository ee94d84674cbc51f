"""A process full of viewers: connects COUNT Socket.IO viewers to a room, records when captions arrive.

Run by the fan-out benchmark (``python -m tests.bench.viewers URL ROOM COUNT [NETWORK]``). Prints ``ready`` once
every viewer is connected, then, when stdin closes, one JSON line: delivery latency of every caption whose
text carries its send time (``t=<epoch seconds>``). Each viewer comes from its own address (``10.NETWORK.x.y``,
as ``tests.support.reach`` says how), as phones on an audience's networks do.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import socketio

from captions.collector import settle_collector
from tests.support.reach import Reach


def viewer_address(network: int, index: int) -> str:
    return f"10.{network}.{index // 250}.{index % 250 + 1}"


async def main(url: str, room: str, count: int, network: int) -> None:
    reach = Reach.of(url)
    latencies: list[float] = []

    def on_caption(caption: dict[str, object]) -> None:
        text = str(caption.get("text", ""))
        if caption.get("kind") == "final" and text.startswith("t="):
            latencies.append(time.time() - float(text[2:]))

    clients: list[socketio.AsyncClient] = []
    for start in range(0, count, 50):
        batch = []
        for _ in range(min(50, count - start)):
            address = viewer_address(network, len(clients))
            client = reach.sio(address)
            client.on("caption", on_caption)
            batch.append(
                client.connect(
                    reach.socketio_url(room),
                    auth={"room": room, "role": "viewer"},
                    headers=reach.headers(address),
                    transports=["websocket"],
                )
            )
            clients.append(client)
        await asyncio.gather(*batch)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"latencies": latencies, "viewers": count}), flush=True)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


if __name__ == "__main__":
    # Hundreds of clients in one process: with Python's default collector its own pauses (100 ms and more)
    # would be counted as the server's delivery latency. Product and floor rounds share these clients.
    settle_collector(50_000)
    asyncio.run(
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    )

"""One soak stream (run by ``tests.bench.soak`` as its own process): the endless talk in real time, either
straight into the engine or from a presenter to a viewer through ``captions serve``. Prints one JSON line per
caption event as it arrives: kind, text, start and end (talk seconds) and ``at`` (seconds since the talk began).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import socketio

from captions.asr.engine import Engine
from captions.audio.pcm import Audio, float32_to_pcm16
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from tests.support.speech import corpus_for_bench
from tests.support.talk import TalkProgram, build_program

FRAME = SAMPLE_RATE // 10


def say(kind: str, text: str, start: float, end: float, at: float) -> None:
    line = {"kind": kind, "text": text, "start": round(start, 3), "end": round(end, 3), "at": round(at, 3)}
    print(json.dumps(line), flush=True)


async def frames(program: TalkProgram, seconds: float, t0: float) -> AsyncIterator[tuple[int, Audio]]:
    """The talk in 100 ms frames, each released when its last sample would leave a microphone."""
    loop = asyncio.get_running_loop()
    total = round(seconds * SAMPLE_RATE)
    for index, start in enumerate(range(0, total, FRAME)):
        await asyncio.sleep(max(0.0, t0 + (start + FRAME) / SAMPLE_RATE - loop.time()))
        yield index, program.audio_between(start, min(start + FRAME, total))


async def engine_run(program: TalkProgram, seconds: float) -> None:
    engine = Engine(Settings())
    session = engine.open_stream(coalesce=True)
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def feed() -> None:
        async for _, frame in frames(program, seconds, t0):
            await session.feed_audio(frame)
        await session.finish()

    feeder = asyncio.create_task(feed())
    async for event in session.events():
        if event.kind in ("partial", "final"):
            say(event.kind, event.text, event.start, event.end, loop.time() - t0)
    await feeder
    engine.close()


async def serve_run(program: TalkProgram, seconds: float, url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        room: dict[str, Any] = (await http.post("/api/rooms", json={"title": "Soak"})).json()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    ended = asyncio.Event()
    viewer = socketio.AsyncClient(reconnection=False)

    def caption(data: dict[str, Any]) -> None:
        say(data["kind"], data["text"], data["start"], data["end"], loop.time() - t0)

    def status(data: dict[str, Any]) -> None:
        if data["session"] == "ended":
            ended.set()

    viewer.on("caption", caption)
    viewer.on("status", status)
    presenter = socketio.AsyncClient(reconnection=False)
    await viewer.connect(url, auth={"room": room["id"], "role": "viewer"}, transports=["websocket"])
    await presenter.connect(
        url,
        auth={"room": room["id"], "role": "presenter", "key": room["presenter_key"]},
        transports=["websocket"],
    )
    t0 = loop.time()
    async for seq, frame in frames(program, seconds, t0):
        await presenter.emit("audio", {"seq": seq, "pcm": float32_to_pcm16(frame)})
    await presenter.emit("stop")
    await asyncio.wait_for(ended.wait(), 120)
    await presenter.disconnect()
    await viewer.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("engine", "serve"))
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    program = build_program(corpus_for_bench(), args.cache, lambda _audio: "")
    started = time.monotonic()
    if args.mode == "engine":
        asyncio.run(engine_run(program, args.seconds))
    else:
        asyncio.run(serve_run(program, args.seconds, args.url))
    print(f"soak stream ({args.mode}) done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

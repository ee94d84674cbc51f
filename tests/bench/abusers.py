"""A process full of abusive clients (``python -m tests.bench.abusers URL ROOM``), ten of each kind: event
floods, attachment bombs, slow readers that never read, reconnect storms, room-creation spam, slot squatters
(one client's ten paused rooms), tiny-frame floods, Engine.IO packet floods, download storms. Prints
``ready`` once all are at it (connected, or already refused); when stdin closes they stop, and one JSON line says how the server dealt with
each: ``refused`` (coded refusals), ``disconnected`` (closed by the server), or ``untouched``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import socketio
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.raw_socketio import join
from tests.support.reach import Reach

PER_KIND = 10
# Each storming or spamming client tries up to 50 times a second (500/s for the ten of a kind): two and a half
# times what the server lets one address connect, what one laptop script does.
ATTEMPT_INTERVAL_S = 0.02
# A storming client's attempts open at once, up to this many (a script that never waits for an answer).
STORM_IN_FLIGHT = 20
ENGAGE_WITHIN_S = 60.0
Outcome = str


def address(kind: int, index: int) -> str:
    return f"198.18.{kind}.{index + 1}"


async def flood(reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event) -> Outcome:
    client = reach.sio(me)
    errors: list[str] = []
    client.on("error", lambda e: errors.append(e["code"]))
    try:
        await client.connect(reach.socketio_url(room), auth={"room": room, "role": "viewer"},
                         headers=reach.headers(me), transports=["websocket"])  # fmt: skip
    except socketio.exceptions.ConnectionError:  # refused at the handshake
        engaged.set()
        return "refused"
    engaged.set()
    while client.connected and not stop.is_set():
        with contextlib.suppress(socketio.exceptions.BadNamespaceError):
            await client.emit("audio", {"seq": 0, "pcm": b"\0" * 3200})
        await asyncio.sleep(0.001)
    outcome = "disconnected" if not client.connected else ("refused" if errors else "untouched")
    await client.disconnect()
    return outcome


async def attachment_bomb(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    ws = await reach.websocket(me, room)
    await join(ws, {"room": room, "role": "viewer"})
    engaged.set()
    try:
        await ws.send('451000-["audio",{"seq":0,"pcm":{"_placeholder":true,"num":0}}]')
        while not stop.is_set():
            await ws.send(bytes(60_000))
            await asyncio.sleep(0.001)
    except ConnectionClosed:
        return "disconnected"
    return "untouched"


async def slow_reader(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    reader, writer = await reach.stalled_viewer(me, {"room": room, "role": "viewer"})
    engaged.set()
    await stop.wait()
    # Only now does it read: whatever the server left in the pipe, then the end of the connection if the
    # server closed it (a ping it never answered, or a queue it never emptied).
    try:
        while await asyncio.wait_for(reader.read(65536), 5):
            pass
        return "disconnected"
    except (TimeoutError, ConnectionError, ssl.SSLError):
        return "untouched"
    finally:
        writer.close()


async def reconnect_storm(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    """Attempts start on a fixed schedule, not one after the other: a storm's rate is its script's, not what
    the server's answers let through (a closed loop on a busy box came out under the connect rate, untouched)."""
    refused, unanswered = False, 0
    in_flight: set[asyncio.Task[None]] = set()

    async def attempt() -> None:
        nonlocal refused, unanswered
        try:
            ws = await reach.websocket(me, room)
            answer = await asyncio.wait_for(join(ws, {"room": room, "role": "viewer"}), 10)
            refused = refused or answer.startswith("44")
            await ws.close()
        except (ConnectionClosed, OSError, InvalidHandshake):
            refused = True  # refused at the handshake (or closed unanswered by a busy server)
        except TimeoutError:
            unanswered += 1
        if refused:
            engaged.set()

    while not stop.is_set():
        if len(in_flight) < STORM_IN_FLIGHT:
            task = asyncio.create_task(attempt())
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.sleep(ATTEMPT_INTERVAL_S)
    await asyncio.gather(*in_flight)
    if unanswered:
        return f"error: {unanswered} joins unanswered in 10 s"
    return "refused" if refused else "untouched"


async def room_spam(reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event) -> Outcome:
    refused = False
    async with reach.http(me) as http:
        while not stop.is_set():
            answer = await http.post("/api/rooms", json={"title": "spam"})
            refused = refused or answer.status_code == 429
            if refused:
                engaged.set()
            await asyncio.sleep(ATTEMPT_INTERVAL_S)
    return "refused" if refused else "untouched"


async def squatter(reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event) -> Outcome:
    """Ten rooms of one client (one address), each made live and paused, to hold transcription slots: the
    client gets its share (half of them), the rest are refused."""
    me = SQUATTERS_ADDRESS
    async with reach.http(me) as http:
        created = await http.post("/api/rooms", json={"title": "mine"})
    if created.status_code != 201:
        engaged.set()
        return "refused"
    own = created.json()
    client = reach.sio(me)
    answers: list[str] = []
    answered = asyncio.Event()

    def answer(what: str) -> None:
        answers.append(what)
        if what in ("live", "too_many_live_rooms", "capacity"):
            answered.set()

    client.on("error", lambda e: answer(e["code"]))
    client.on("status", lambda s: answer(s["session"]))
    try:
        await client.connect(reach.socketio_url(own["id"]), auth={"room": own["id"], "role": "presenter",
                         "key": own["presenter_key"]}, headers=reach.headers(me), transports=["websocket"])  # fmt: skip
    except socketio.exceptions.ConnectionError:  # refused at the handshake
        engaged.set()
        return "refused"
    await client.emit("text", {"kind": "final", "text": "Holding this slot."})
    await asyncio.wait_for(answered.wait(), 30)
    held = "live" in answers and not {"too_many_live_rooms", "capacity"} & set(answers)
    if held:
        await client.emit("pause")
    engaged.set()
    await stop.wait()
    # Stopped, not left to the absent release (a minute): the next run's squatters are another client, and
    # a run measures one squatting client beside the presenter.
    if held:
        stopped = asyncio.Event()
        client.on("status", lambda s: stopped.set() if s["session"] in ("stopping", "ended") else None)
        with contextlib.suppress(socketio.exceptions.SocketIOError, TimeoutError):
            await client.emit("stop")
            await asyncio.wait_for(stopped.wait(), 10)
    await client.disconnect()
    return "held its share" if held else "refused"


async def tiny_frames(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    """A presenter of its own room sending 2-byte frames as fast as it can."""
    async with reach.http(me) as http:
        created = await http.post("/api/rooms", json={"title": "tiny"})
    if created.status_code != 201:
        engaged.set()
        return "refused"
    own = created.json()
    client = reach.sio(me)
    errors: list[str] = []
    client.on("error", lambda e: errors.append(e["code"]))
    try:
        await client.connect(reach.socketio_url(own["id"]), auth={"room": own["id"], "role": "presenter",
                         "key": own["presenter_key"]}, headers=reach.headers(me), transports=["websocket"])  # fmt: skip
    except socketio.exceptions.ConnectionError:  # refused at the handshake
        engaged.set()
        return "refused"
    engaged.set()
    seq = 0
    while client.connected and not stop.is_set():
        with contextlib.suppress(socketio.exceptions.BadNamespaceError):
            await client.emit("audio", {"seq": seq, "pcm": b"\0\0"})
        seq += 1
        await asyncio.sleep(0.001)
    outcome = "disconnected" if not client.connected else ("refused" if errors else "untouched")
    await client.disconnect()
    return outcome


async def packet_flood(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    """Engine.IO packets (pongs nobody asked for) as fast as a socket takes them, before and after joining."""
    ws = await reach.websocket(me, room)
    engaged.set()
    try:
        while not stop.is_set():
            await ws.send("3")
            await asyncio.sleep(0)
    except ConnectionClosed:
        return "disconnected"
    return "untouched"


async def download_storm(
    reach: Reach, room: str, me: str, stop: asyncio.Event, engaged: asyncio.Event
) -> Outcome:
    """The room's whole transcript and transcript view, over and over."""
    refused = False
    paths = [f"/api/rooms/{room}/transcript.vtt", f"/embed/{room}?lines=all"]
    async with reach.http(me) as http:
        while not stop.is_set():
            for path in paths:
                answer = await http.get(path)
                refused = refused or answer.status_code == 429
            if refused:
                engaged.set()
            await asyncio.sleep(ATTEMPT_INTERVAL_S)
    return "refused" if refused else "untouched"


KINDS: dict[str, Callable[[Reach, str, str, asyncio.Event, asyncio.Event], Coroutine[Any, Any, Outcome]]] = {
    "event flood": flood,
    "attachment bomb": attachment_bomb,
    "slow reader": slow_reader,
    "reconnect storm": reconnect_storm,
    "room-creation spam": room_spam,
    "slot squatter": squatter,
    "tiny-frame flood": tiny_frames,
    "packet flood": packet_flood,
    "download storm": download_storm,
}
# The squatters are one client (one address, new for each run: a run's rooms would use up the next's quota).
SQUATTERS_ADDRESS = f"198.19.{os.getpid() % 250}.1"


def chosen_kinds() -> dict[
    str, Callable[[Reach, str, str, asyncio.Event, asyncio.Event], Coroutine[Any, Any, Outcome]]
]:
    """Every kind, or those named in ``ABUSERS_ONLY`` (comma-separated): to find which one costs what."""
    only = [name.strip() for name in os.environ.get("ABUSERS_ONLY", "").split(",") if name.strip()]
    return {kind: run for kind, run in KINDS.items() if not only or kind in only}


async def main(reach: Reach, room: str, linger_s: float) -> None:
    kinds = chosen_kinds()
    stop = asyncio.Event()
    engaged = [asyncio.Event() for _ in range(PER_KIND * len(kinds))]
    tasks: dict[str, list[asyncio.Task[Outcome]]] = {
        kind: [
            asyncio.create_task(run(reach, room, address(k, i), stop, engaged[k * PER_KIND + i]))
            for i in range(PER_KIND)
        ]
        for k, (kind, run) in enumerate(kinds.items())
    }
    # The audience arrives during an attack in full swing: every abuser is connected or already refused.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in engaged)), ENGAGE_WITHIN_S)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await asyncio.sleep(linger_s)  # slow readers: long enough for the server's ping timeout
    stop.set()
    report: dict[str, dict[str, int]] = {}
    for kind, running in tasks.items():
        outcomes: list[Any] = await asyncio.gather(*running, return_exceptions=True)
        counts: dict[str, int] = {}
        for outcome in outcomes:
            name = outcome if isinstance(outcome, str) else f"error: {type(outcome).__name__}"
            counts[name] = counts.get(name, 0) + 1
        report[kind] = counts
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    # Abusers run on their own machines: here they yield the CPU to the server and the audience, so what the
    # benchmark shows is what abuse costs the server, not what it costs this box to simulate it.
    os.nice(10)
    socket.setdefaulttimeout(10)
    asyncio.run(main(Reach.of(sys.argv[1]), sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))

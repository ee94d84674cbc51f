"""Destinations benchmark (part of ``make bench``; issue #30): 100 rooms on one ``captions serve``, each with a
presenter sending a sentence every two seconds (browser-recognised text: what is measured is what happens after
a final is stored) and a viewer, first without destinations, then with two webhook destinations per room on
loopback receivers (``tests.bench.receiver``, another process), taking turns; then with a third destination per
room that never answers. Each sentence ends a line, so a line goes as soon as its final is stored.

Measured: a line's arrival at each destination minus its final's arrival at the room's viewer (p50/p95); the
viewers' caption latency (presenter's send to viewer) p99 with and without destinations.

Targets: destination p95 <= 150 ms over the viewer; viewer p99 with destinations within 10 % of without; with a
destination hanging in every room, the others' p95 still <= 150 ms; every line at every answering destination
once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.bench.server import cpu_of, save_results
from tests.support.harness import Client, presenter, viewer
from tests.support.processes import CaptionsProcess, free_port, wait_until

ROOMS = 100
SENTENCES = 10
INTERVAL_S = 2.0
DESTINATION_P95_MS = 150.0
VIEWER_P99_RATIO = 1.10
ROUNDS = 3


@dataclass
class Round:
    label: str
    sent: dict[tuple[str, str], float] = field(default_factory=dict)  # (room, text) -> presenter's send
    seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (room, text) -> viewer's arrival
    all_seen: asyncio.Event = field(default_factory=asyncio.Event)
    server_cores: float = 0.0  # the server's CPU during the round

    def viewer_latencies(self) -> list[float]:
        return [self.seen[key] - sent for key, sent in self.sent.items() if key in self.seen]


def quantile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_round(url: str, receiver: str, secret: str, label: str, destinations: list[str]) -> Round:
    """``destinations``: the receiver's paths each room sends to."""
    measured = Round(label)
    rooms: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for _ in range(ROOMS):
            created = await http.post("/api/rooms", json={"title": "bench"})
            created.raise_for_status()
            rooms.append(created.json())
        for room in rooms:
            listed = [
                {"kind": "webhook", "url": f"{receiver}{path}", "secret": secret} for path in destinations
            ]
            answer = await http.put(f"/api/rooms/{room['id']}/destinations", json={"destinations": listed},
                                    headers={"X-Presenter-Key": room["presenter_key"]})  # fmt: skip
            answer.raise_for_status()
    viewers = [viewer(Reachable(url), room["id"]) for room in rooms]
    speakers = [presenter(Reachable(url), room) for room in rooms]
    for room, audience in zip(rooms, viewers, strict=True):
        audience.sio.on("caption", record_into(measured, room["id"]))
    for client in [*viewers, *speakers]:
        await client.connect()

    async def talk(room_id: str, speaker: Client) -> None:
        await asyncio.sleep(random.uniform(0, INTERVAL_S))
        for number in range(SENTENCES):
            text = f"Sentence {number + 1} of room {room_id} ends here."
            measured.sent[(room_id, text)] = time.time()
            await speaker.emit("text", {"kind": "final", "text": text})
            await asyncio.sleep(INTERVAL_S)
        await speaker.emit("stop")

    await asyncio.gather(*(talk(room["id"], speaker) for room, speaker in zip(rooms, speakers, strict=True)))
    with contextlib.suppress(TimeoutError):  # a caption never delivered shows in the report
        await asyncio.wait_for(measured.all_seen.wait(), 15)
    for client in [*viewers, *speakers]:
        await client.disconnect()
    return measured


def record_into(measured: Round, room_id: str) -> Any:
    def on_caption(caption: dict[str, Any]) -> None:
        if caption["kind"] == "final":
            measured.seen.setdefault((room_id, caption["text"]), time.time())
            if len(measured.seen) >= ROOMS * SENTENCES:
                measured.all_seen.set()

    return on_caption


@dataclass(frozen=True)
class Reachable:
    url: str


def destination_latencies(
    measured: Round, records: list[dict[str, Any]], path: str
) -> tuple[list[float], bool]:
    """Per line at ``path``: its arrival minus its final's at the viewer; and whether each room's lines came
    once each, in order, numbered 1, 2, 3..."""
    rooms = {room for room, _ in measured.sent}
    mine = [r for r in records if r["to"] == path and r["room"] in rooms]
    latencies = [
        r["arrived"] - measured.seen[(r["room"], r["text"])]
        for r in mine
        if (r["room"], r["text"]) in measured.seen
    ]
    complete = True
    for room in rooms:
        got = [r for r in mine if r["room"] == room]
        expected = [f"Sentence {n + 1} of room {room} ends here." for n in range(SENTENCES)]
        complete &= [r["text"] for r in got] == expected and [r["seq"] for r in got] == list(
            range(1, SENTENCES + 1)
        )
    return latencies, complete


def main() -> int:
    secret = secrets.token_urlsafe(24)
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    feeder = subprocess.Popen([sys.executable, "-m", "tests.bench.receiver", str(port), secret])
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "CAPTIONS_DATA_DIR": str(Path(folder) / "data"),
            "CAPTIONS_WEB_DIR": str(Path(folder) / "no-web-build"),
            "CAPTIONS_DESTINATIONS_ALLOW_PRIVATE": "true",
            "CAPTIONS_MAX_ROOMS": "0",
            "CAPTIONS_MAX_LIVE_ROOMS_PER_CLIENT": "1000",
            "CAPTIONS_ROOMS_PER_HOUR": "100000",
            "CAPTIONS_ROOMS_BURST": "10000",
            "CAPTIONS_READS_BURST": "10000",
        }
        serve = CaptionsProcess("serve", env, Path(folder), "serve")
        try:
            wait_until(lambda: answers(receiver), "the receivers", 30)
            serve.start()
            rounds: list[Round] = []
            for number in range(ROUNDS):
                for label, paths in (("none", []), ("two", ["/a", "/b"])):
                    print(
                        f"  {ROOMS} rooms, destinations: {label} ({number + 1}/{ROUNDS}) ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    cpu_before, started = cpu_of(serve.pid), time.monotonic()
                    rounds.append(asyncio.run(run_round(serve.url, receiver, secret, label, paths)))
                    rounds[-1].server_cores = (cpu_of(serve.pid) - cpu_before) / (time.monotonic() - started)
            print(
                f"  {ROOMS} rooms, two destinations and one that never answers ...",
                file=sys.stderr,
                flush=True,
            )
            hanging = asyncio.run(run_round(serve.url, receiver, secret, "hanging", ["/a", "/hang", "/b"]))
            time.sleep(2)  # lines still on their way
            records = httpx.get(f"{receiver}/records", timeout=30).json()
        except Exception:
            print(serve.log_tail(), file=sys.stderr)
            raise
        finally:
            serve.stop()
            feeder.kill()  # its hanging requests would hold a graceful stop
            feeder.wait(timeout=10)
    return report(rounds, hanging, records)


def answers(receiver: str) -> bool:
    try:
        return httpx.get(f"{receiver}/records", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def report(rounds: list[Round], hanging: Round, records: list[dict[str, Any]]) -> int:
    without = [v for r in rounds if r.label == "none" for v in r.viewer_latencies()]
    with_two = [r for r in rounds if r.label == "two"]
    viewer_with = [v for r in with_two for v in r.viewer_latencies()]
    to_destinations: list[float] = []
    complete = True
    for measured in with_two:
        for path in ("/a", "/b"):
            latencies, whole = destination_latencies(measured, records, path)
            to_destinations += latencies
            complete &= whole
    beside_hang: list[float] = []
    complete_beside_hang = True
    for path in ("/a", "/b"):
        latencies, whole = destination_latencies(hanging, records, path)
        beside_hang += latencies
        complete_beside_hang &= whole
    delivered = all(len(r.seen) == len(r.sent) for r in [*rounds, hanging])
    p99_without, p99_with = quantile(without, 99), quantile(viewer_with, 99)
    ratio = p99_with / p99_without
    print(
        f"\nDestinations: {ROOMS} rooms, a sentence every {INTERVAL_S:.0f} s each, {ROUNDS} rounds taking turns"
    )
    print(f"{'':44} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'lines':>7}")
    rows = [
        ("viewers, no destinations", without),
        ("viewers, 2 destinations per room", viewer_with),
        ("destination after viewer (2 per room)", to_destinations),
        ("viewers, 1 of 3 destinations hanging", hanging.viewer_latencies()),
        ("destination after viewer, beside a hang", beside_hang),
    ]
    for label, values in rows:
        print(f"{label:44} {quantile(values, 50) * 1000:8.1f} {quantile(values, 95) * 1000:8.1f} "
              f"{quantile(values, 99) * 1000:8.1f} {len(values):7d}")  # fmt: skip
    for label in ("none", "two"):
        each = [quantile(r.viewer_latencies(), 99) * 1000 for r in rounds if r.label == label]
        print(f"  viewers p99 by round, destinations {label}: {', '.join(f'{v:.1f}' for v in each)} ms")
        cores = [r.server_cores for r in rounds if r.label == label]
        print(f"  server CPU by round, destinations {label}: {', '.join(f'{c:.2f}' for c in cores)} cores")
    checks = {
        f"destination p95 <= {DESTINATION_P95_MS:.0f} ms over the viewer": quantile(to_destinations, 95)
        * 1000
        <= DESTINATION_P95_MS,
        f"viewer p99 with destinations within {VIEWER_P99_RATIO:.2f}x of without ({ratio:.2f}x)": ratio
        <= VIEWER_P99_RATIO,
        f"beside a hanging destination, p95 <= {DESTINATION_P95_MS:.0f} ms": quantile(beside_hang, 95) * 1000
        <= DESTINATION_P95_MS,
        "every line at every answering destination once, in order, numbered": complete
        and complete_beside_hang,
        "every caption at every viewer": delivered,
    }
    print()
    for name, ok in checks.items():
        print(f"  [{'met' if ok else 'MISSED'}] {name}")
    save_results(
        "destinations.json",
        {
            "rooms": ROOMS,
            "viewer_p99_ms": {"none": round(p99_without * 1000, 1), "two": round(p99_with * 1000, 1)},
            "server_cores": {
                label: round(float(np.mean([r.server_cores for r in rounds if r.label == label])), 3)
                for label in ("none", "two")
            },
            "destination_over_viewer_ms": {
                "p50": round(quantile(to_destinations, 50) * 1000, 1),
                "p95": round(quantile(to_destinations, 95) * 1000, 1),
            },
            "beside_hang_p95_ms": round(quantile(beside_hang, 95) * 1000, 1),
            "checks": checks,
        },
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

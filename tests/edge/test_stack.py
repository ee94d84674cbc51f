"""`make stack` (``captions stack``): a Redis Cluster, two gateways, a transcriber and nginx as processes run by
honcho; a talk through it end to end over TLS; SIGTERM stops every process it started."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.deployment import RECORDING, SPEED
from tests.support.edge import TlsEndpoint, alive, descendants, finish_talk, needs_the_edge_programs
from tests.support.harness import pcm_frames, stream
from tests.support.processes import ROOT, cluster_ports, ports_in_a_row, wait_until
from tests.support.speech import SpeechCorpus


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], TlsEndpoint, Path, list[str]]]:
    needs_the_edge_programs()
    # HTTPS, HTTP, then two gateways and a transcriber's metrics from --service-port up: all free, none taken
    # by a client connection meanwhile.
    port = ports_in_a_row(5)
    http_port, services = port + 1, port + 2
    command = [
        sys.executable, "-m", "captions.cli", "stack", "--redis-cluster", "--gateways", "2", "--transcribers", "1",
        "--port", str(port), "--http-port", str(http_port), "--service-port", str(services),
        "--redis-port", str(cluster_ports(6)), "--folder", str(tmp_path / "stack"),
    ]  # fmt: skip
    log = tmp_path / "stack.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAPTIONS_")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=environment)
    endpoint = TlsEndpoint(f"https://127.0.0.1:{port}", tmp_path / "stack" / "tls" / "cert.pem")
    try:
        yield process, endpoint, log, [f"http://127.0.0.1:{services + n}" for n in range(2)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def healthy(process: subprocess.Popen[bytes], endpoint: TlsEndpoint, log: Path, gateways: list[str]) -> bool:
    """nginx answers, and so does every gateway (a room's clients go to the one its id hashes to)."""
    if process.poll() is not None:
        raise RuntimeError(f"the stack exited; its log:\n{log.read_text()[-3000:]}")
    try:
        answers = [httpx.get(f"{endpoint.url}/healthz", verify=endpoint.tls(), timeout=1)]
        answers += [httpx.get(f"{gateway}/healthz", timeout=1) for gateway in gateways]
    except (httpx.HTTPError, OSError):
        return False
    return all(answer.status_code == 200 for answer in answers)


async def test_make_stack_carries_a_talk_and_stops_cleanly(
    stack: tuple[subprocess.Popen[bytes], TlsEndpoint, Path, list[str]], speech: SpeechCorpus
) -> None:
    process, endpoint, log, gateways = stack
    await asyncio.to_thread(wait_until, lambda: healthy(process, endpoint, log, gateways), "the stack", 120)
    try:
        room = await endpoint.new_room("127.0.0.1")
        reader = await endpoint.viewer(room, "127.0.0.1").connect()
        speaker = await endpoint.presenter(room, "127.0.0.1").connect()
        talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
        await finish_talk(endpoint, room, speaker, talk, [reader], speech)
    except Exception as error:
        raise AssertionError(f"the talk failed; the stack's log:\n{log.read_text()[-6000:]}") from error

    started = descendants(process.pid)
    assert len(started) >= 10, "six Redis nodes, two gateways, a transcriber and nginx"
    process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(process.wait, 60)
    assert [pid for pid in started if alive(pid)] == []

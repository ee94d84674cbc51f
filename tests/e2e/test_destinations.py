"""Captions sent on to Zoom, YouTube, OBS and a webhook, each a local fake speaking the service's documented
protocol (no cloud service is reachable here): a talk of real speech through a real ``captions serve`` process,
with failures injected and the process killed mid-talk, reaches each once, in order, as lines."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fake_destinations import FakeObs, FakeWebhook, FakeYouTube, FakeZoom
from tests.support.harness import Server, create_room, stored_finals, until
from tests.support.presenter_app import PresenterApp
from tests.support.processes import CaptionsProcess
from tests.support.speech import SpeechCorpus

RECORDING = "talk.wav"
TROUBLE_AT_S = 3.0
OUTAGE_AT_S = 5.0
RESTART_AT_S = 13.0
YOUTUBE_CLOCK_SKEW_S = 20.0


@dataclass
class Fakes:
    zoom: FakeZoom
    youtube: FakeYouTube
    obs: FakeObs
    webhook: FakeWebhook

    def destinations(self) -> list[dict[str, Any]]:
        return [
            {"kind": "zoom", "url": self.zoom.url, "lang": "en-US"},
            {"kind": "youtube", "url": self.youtube.url},
            {"kind": "obs", "host": "127.0.0.1", "port": self.obs.port, "password": self.obs.password},
            {"kind": "webhook", "url": self.webhook.url, "secret": self.webhook.secret},
        ]

    def secrets(self) -> dict[str, str]:
        """What must never be seen again once given: the tokens in the caption URLs, the password, the secret."""
        return {
            "zoom signature": self.zoom.token["signature"],
            "zoom ns": self.zoom.token["ns"],
            "youtube cid": self.youtube.cid,
            "obs password": self.obs.password,
            "webhook secret": self.webhook.secret,
        }


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    started = Fakes(
        await FakeZoom().start(),
        await FakeYouTube(YOUTUBE_CLOCK_SKEW_S).start(),
        await FakeObs().start(),
        await FakeWebhook().start(),
    )
    yield started
    for fake in (started.zoom, started.youtube, started.obs, started.webhook):
        await fake.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[CaptionsProcess]:
    env = {
        "CAPTIONS_DATA_DIR": str(tmp_path / "data"),
        "CAPTIONS_WEB_DIR": str(tmp_path / "no-web-build"),
        "CAPTIONS_SECRETS_KEY": secrets.token_urlsafe(32),
        "CAPTIONS_DESTINATIONS_ALLOW_PRIVATE": "true",  # the fakes are on loopback
        "CAPTIONS_DESTINATION_TIMEOUT_S": "1",
        "CAPTIONS_METRICS_TOKEN": "scraper-token",
    }
    process = CaptionsProcess("serve", env, tmp_path, "serve")
    try:
        yield process.start()
    finally:
        process.stop()


async def test_a_talk_reaches_every_destination_once_in_order_through_failures_and_a_restart(
    serve: CaptionsProcess, fakes: Fakes, speech: SpeechCorpus, tmp_path: Path
) -> None:
    room = await create_room(serve, "Sent on")
    key = {"X-Presenter-Key": room["presenter_key"]}
    answers: list[str] = []
    async with httpx.AsyncClient(base_url=serve.url, timeout=10) as http:
        saved = await http.put(
            f"/api/rooms/{room['id']}/destinations", json={"destinations": fakes.destinations()}, headers=key
        )
        assert saved.status_code == 200, saved.text
        answers.append(saved.text)
    views = saved.json()["destinations"]
    assert [(v["kind"], v["target"], v["state"]) for v in views] == [
        ("zoom", "127.0.0.1", "ok"),
        ("youtube", "127.0.0.1", "ok"),
        ("obs", f"127.0.0.1:{fakes.obs.port}", "ok"),
        ("webhook", "127.0.0.1", "ok"),
    ]

    speaker = PresenterApp.of(serve, room)
    speaker.record("destinations")
    await speaker.connect()
    tasks: list[asyncio.Task[Any]] = []

    def restart() -> None:
        serve.kill()
        # What Zoom and the webhook refused since OUTAGE_AT_S was stored and never sent: the restarted server
        # sends it from their stored progress.
        fakes.zoom.trouble.failing.clear()
        fakes.webhook.trouble.failing.clear()
        serve.start()

    def at_second(audio_s: float) -> None:
        if audio_s == TROUBLE_AT_S:
            fakes.zoom.trouble.fail(3)
            fakes.youtube.trouble.hang(1)
            fakes.webhook.trouble.fail(2, 503)
            tasks.append(asyncio.create_task(fakes.obs.drop()))
        if audio_s == OUTAGE_AT_S:
            fakes.zoom.trouble.fail(10_000, 503)
            fakes.webhook.trouble.fail(10_000, 502)
        if audio_s == RESTART_AT_S:
            tasks.append(asyncio.create_task(asyncio.to_thread(restart)))

    await speaker.speak(speech.path(RECORDING), on_second=at_second)
    await asyncio.gather(*tasks)
    await speaker.wait_for(lambda: speaker.connects >= 2 and speaker.synced)
    await speaker.sio.emit("stop")
    await speaker.wait_for(speaker.ended, within_s=60)

    words = " ".join(c["text"] for c in await stored_finals(serve, room["id"])).split()
    assert len(words) > 30
    named: list[tuple[str, FakeZoom | FakeYouTube | FakeObs | FakeWebhook]] = [
        ("zoom", fakes.zoom), ("youtube", fakes.youtube), ("obs", fakes.obs), ("webhook", fakes.webhook)
    ]  # fmt: skip
    for name, fake in named:
        await until(partial(spoken_words_at_least, fake, len(words)), f"{name} has the talk")
        assert " ".join(fake.texts).split() == words, f"{name}: every word once, in order"
        assert [entry.seq for entry in fake.received] == list(range(1, len(fake.received) + 1)), (
            f"{name}: consecutive numbers, none skipped, none reused for another line"
        )
        lines = fake.texts
        assert max(len(line) for line in lines) <= 84, lines
        assert len(words) / len(lines) >= 3, f"{name}: lines, not words one by one: {lines}"
    assert fakes.zoom.refused == []
    assert fakes.youtube.refused == []
    assert fakes.webhook.refused == []
    assert {entry.extra["lang"] for entry in fakes.zoom.received} == {"en-US"}
    assert fakes.obs.connections >= 3, "connected again after OBS dropped and after the restart"
    assert fakes.obs.refused_identities == 0

    told = speaker.received["destinations"]
    states = [(d["kind"], d["state"], d["error"]) for event in told for d in event["destinations"]]
    assert ("zoom", "retrying", "HTTP 500") in states, "the presenter saw Zoom's trouble"
    assert ("webhook", "retrying", "HTTP 503") in states
    assert ("youtube", "retrying", "timed out") in states
    assert all(d["state"] == "ok" for d in told[-1]["destinations"]), "and that it passed"

    # The time each YouTube caption says its words were spoken is on YouTube's clock once it was measured: all
    # but the first caption each server process sent (the restarted one measures again).
    offsets = [entry.extra["spoken"].timestamp() - entry.extra["arrived"] for entry in fakes.youtube.received]
    on_our_clock = [
        offset for offset in offsets if not YOUTUBE_CLOCK_SKEW_S - 6 <= offset <= YOUTUBE_CLOCK_SKEW_S
    ]
    assert len(on_our_clock) <= 2, offsets
    assert all(-12 <= offset <= 0 for offset in on_our_clock), offsets
    print(f"\n{len(words)} words; lines per destination: "
          f"{[len(f.received) for f in (fakes.zoom, fakes.youtube, fakes.obs, fakes.webhook)]}; "
          f"resent with their number: youtube {fakes.youtube.resent}, obs {fakes.obs.resent}, "
          f"webhook {fakes.webhook.resent}; YouTube clock offsets {[round(o, 1) for o in offsets]}")  # fmt: skip

    answers += await everything_a_client_can_read(serve, room)
    stored = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("*") if path.is_file())
    for what, secret in fakes.secrets().items():
        for answer in answers:
            assert secret not in answer, f"{what} in an answer: {answer[:300]}"
        assert secret not in serve.log.read_text(errors="replace"), f"{what} in the server's log"
        assert secret.encode() not in stored, f"{what} in clear in the data directory"


def spoken_words_at_least(fake: FakeZoom | FakeYouTube | FakeObs | FakeWebhook, count: int) -> bool:
    return len(" ".join(fake.texts).split()) >= count


async def everything_a_client_can_read(serve: CaptionsProcess, room: dict[str, Any]) -> list[str]:
    key = {"X-Presenter-Key": room["presenter_key"]}
    paths = ["", "/sessions", "/destinations", "/transcript.txt", "/transcript.srt", "/transcript.vtt",
             "/transcript.json", "/qr.svg"]  # fmt: skip
    async with httpx.AsyncClient(base_url=serve.url, timeout=10) as http:
        answers = [(await http.get(f"/api/rooms/{room['id']}{path}", headers=key)).text for path in paths]
        answers.append((await http.get(f"/embed/{room['id']}")).text)
        answers.append((await http.get("/metrics", headers={"Authorization": "Bearer scraper-token"})).text)
    assert all(answers), "each was answered"
    return answers


@pytest.mark.parametrize(
    ("destination", "refused"),
    [
        ({"kind": "zoom", "url": "http://127.0.0.1:9/closedcaption?id=1"}, "destination_refused"),
        ({"kind": "youtube", "url": "http://169.254.169.254/latest/meta-data"}, "destination_refused"),
        ({"kind": "webhook", "url": "https://10.1.2.3/hook", "secret": "s" * 16}, "destination_refused"),
        ({"kind": "webhook", "url": "http://[::1]:8080/hook", "secret": "s" * 16}, "destination_refused"),
        ({"kind": "obs", "host": "localhost", "port": 4455, "password": "x"}, "destination_refused"),
        ({"kind": "obs", "host": "192.168.1.20"}, "destination_refused"),
        ({"kind": "youtube", "url": "http://captions.invalid/ingest"}, "destination_refused"),
        ({"kind": "zoom", "url": "ftp://wmcc.zoom.us/closedcaption"}, "invalid_request"),
        ({"kind": "zoom", "url": "https://user:pw@wmcc.zoom.us/closedcaption"}, "invalid_request"),
        ({"kind": "zoom", "url": "https://wmcc.zoom.us/closedcaption", "lang": "english"}, "invalid_request"),
        ({"kind": "webhook", "url": "https://hooks.example.com/c", "secret": "short"}, "invalid_request"),
        ({"kind": "teams", "url": "https://teams.example.com/c"}, "invalid_request"),
    ],
)
async def test_bad_or_private_destinations_are_refused_with_a_coded_problem(
    server: Server, destination: dict[str, Any], refused: str
) -> None:
    room = await server.create_room()
    async with server.http() as http:
        answer = await http.put(
            f"/api/rooms/{room['id']}/destinations",
            json={"destinations": [destination]},
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
        listed = await http.get(
            f"/api/rooms/{room['id']}/destinations", headers={"X-Presenter-Key": room["presenter_key"]}
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == refused
    assert listed.json() == {"destinations": []}, "nothing of a refused list is kept"
    for secret in re.findall(r"pw|metadata|password", str(destination)):
        assert secret not in answer.text


async def test_a_rooms_destinations_are_its_presenters_only(server: Server) -> None:
    room = await server.create_room()
    async with server.http() as http:
        path = f"/api/rooms/{room['id']}/destinations"
        read = await http.get(path)
        written = await http.put(path, json={"destinations": []}, headers={"X-Presenter-Key": "wrong"})
        too_many = await http.put(
            path,
            json={
                "destinations": [{"kind": "youtube", "url": f"https://a{n}.example.com/x"} for n in range(9)]
            },
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
    assert (read.status_code, read.json()["code"]) == (403, "bad_key")
    assert (written.status_code, written.json()["code"]) == (403, "bad_key")
    assert (too_many.status_code, too_many.json()["code"]) == (422, "too_many_destinations")

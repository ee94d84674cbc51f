"""A destination's trouble stays its own: one that hangs does not hold the others back, one that keeps failing
is given up on (its presenter told) and tried again when the list is saved, and the room's captions never wait.
Browser-recognised text makes the finals here: what is checked is what happens after a final is stored."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.fake_destinations import HANG_S, FakeWebhook, FakeZoom
from tests.support.harness import Client, Server, presenter, until, viewer

GIVE_UP_S = 2.0
SENTENCES = [f"Sentence number {n} of the talk is here." for n in range(1, 7)]


@pytest.fixture
async def server(tmp_path: Path, engine: Engine) -> AsyncIterator[Server]:
    settings = Settings(
        data_dir=tmp_path / "data",
        web_dir=tmp_path / "no-web-build",
        destinations_allow_private=True,
        destination_timeout_s=0.5,
        destination_give_up_s=GIVE_UP_S,
    )
    running = await Server(settings, engine).start()
    yield running
    await running.stop()


async def save(server: Server, room: dict[str, Any], destinations: list[dict[str, Any]]) -> None:
    async with server.http() as http:
        answer = await http.put(
            f"/api/rooms/{room['id']}/destinations",
            json={"destinations": destinations},
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
    assert answer.status_code == 200, answer.text


def states(speaker: Client, kind: str) -> list[tuple[str, str]]:
    told = speaker.received["destinations"]
    return [(d["state"], d["error"]) for event in told for d in event["destinations"] if d["kind"] == kind]


async def test_a_hanging_destination_holds_back_neither_the_others_nor_the_room(server: Server) -> None:
    zoom, webhook = await FakeZoom().start(), await FakeWebhook().start()
    try:
        room = await server.create_room()
        webhook.trouble.hang(100)  # every request waits past the timeout, as a dead host does
        await save(server, room, [
            {"kind": "webhook", "url": webhook.url, "secret": webhook.secret},
            {"kind": "zoom", "url": zoom.url},
        ])  # fmt: skip
        audience = await viewer(server, room["id"]).connect()
        speaker = presenter(server, room)
        speaker.record("destinations")
        await speaker.connect()
        for sentence in SENTENCES:
            said = time.monotonic()
            await speaker.emit("text", {"kind": "final", "text": sentence})
            await until(lambda s=sentence: s in zoom.texts, f"Zoom has {sentence!r}")  # type: ignore[misc]
            # A sentence goes at once; well within one hung request (HANG_S) of the webhook.
            assert time.monotonic() - said < HANG_S / 3
        assert [c["text"] for c in audience.finals] == SENTENCES, "the room's viewers had every final"
        assert webhook.received == []
        await until(lambda: ("retrying", "timed out") in states(speaker, "webhook"), "told it retries")
        assert all(state == "ok" for state, _ in states(speaker, "zoom"))
    finally:
        await zoom.stop()
        await webhook.stop()


async def test_a_destination_that_keeps_failing_is_given_up_on_and_tried_again_when_saved(
    server: Server,
) -> None:
    webhook = await FakeWebhook().start()
    try:
        room = await server.create_room()
        webhook.trouble.fail(10_000, 502)
        entry = {"kind": "webhook", "url": webhook.url, "secret": webhook.secret}
        await save(server, room, [entry])
        speaker = presenter(server, room)
        speaker.record("destinations")
        await speaker.connect()
        await speaker.emit("text", {"kind": "final", "text": SENTENCES[0]})
        await until(lambda: ("failed", "HTTP 502") in states(speaker, "webhook"), "given up", GIVE_UP_S * 5)
        requests = webhook.trouble.requests
        async with server.http() as http:
            listed = await http.get(
                f"/api/rooms/{room['id']}/destinations", headers={"X-Presenter-Key": room["presenter_key"]}
            )
        assert [(d["state"], d["error"]) for d in listed.json()["destinations"]] == [("failed", "HTTP 502")]
        await speaker.emit("text", {"kind": "final", "text": SENTENCES[1]})
        await speaker.wait_for(lambda: len(speaker.finals) == 2)
        assert webhook.trouble.requests == requests, "a failed destination is no longer tried"

        webhook.trouble.failing.clear()
        await save(server, room, [entry])  # the presenter saves the list again: it is tried again
        await speaker.emit("text", {"kind": "final", "text": SENTENCES[2]})
        await until(lambda: SENTENCES[2] in webhook.texts, "delivered after saving again")
        assert webhook.texts == SENTENCES[:3], "from where it stopped: nothing lost, nothing twice"
        assert states(speaker, "webhook")[-1] == ("ok", "")
    finally:
        await webhook.stop()


async def test_a_destination_is_kept_by_its_id_alone_and_an_unknown_id_is_refused(server: Server) -> None:
    """The console cannot send a destination's secret again (it is never shown): it keeps one by its id."""
    zoom, webhook = await FakeZoom().start(), await FakeWebhook().start()
    try:
        room = await server.create_room()
        headers = {"X-Presenter-Key": room["presenter_key"]}
        path = f"/api/rooms/{room['id']}/destinations"
        await save(server, room, [
            {"kind": "zoom", "url": zoom.url},
            {"kind": "webhook", "url": webhook.url, "secret": webhook.secret},
        ])  # fmt: skip
        async with server.http() as http:
            listed = (await http.get(path, headers=headers)).json()["destinations"]
            kept = await http.put(path, json={"destinations": [{"keep": listed[1]["id"]}]}, headers=headers)
            unknown = await http.put(
                path, json={"destinations": [{"keep": "0123456789abcdef"}]}, headers=headers
            )
            after = (await http.get(path, headers=headers)).json()["destinations"]
        assert kept.status_code == 200, kept.text
        assert [(d["id"], d["kind"]) for d in kept.json()["destinations"]] == [(listed[1]["id"], "webhook")]
        assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_request")
        assert after == kept.json()["destinations"], "a refused list changes nothing"
        speaker = await presenter(server, room).connect()
        await speaker.emit("text", {"kind": "final", "text": SENTENCES[0]})
        await until(lambda: webhook.texts == [SENTENCES[0]], "the kept webhook, with its secret, still signs")
        assert zoom.received == [], "the removed destination gets nothing"
    finally:
        await zoom.stop()
        await webhook.stop()

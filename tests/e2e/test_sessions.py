"""One talk is one session: a session started by its first frame survives a presenter reconnect; browser
captions are timed; limits and throttles hold; a bad ``last_id`` is a normal join."""

from __future__ import annotations

import itertools

import pytest

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.harness import Client, Server, presenter, stored_finals, viewer

SILENCE = b"\x00\x00" * 1600  # 100 ms


async def test_a_session_started_by_its_first_frame_survives_a_presenter_reconnect(server: Server) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    for seq in range(3):
        await speaker.emit("audio", {"seq": seq, "pcm": SILENCE})
    await speaker.wait_for(lambda: speaker.session == "live")  # the first frame started the session
    session_id = speaker.statuses[-1]["session_id"]
    assert session_id
    await speaker.disconnect()

    back = await presenter(server, room).connect()
    await back.wait_for(lambda: bool(back.statuses))
    welcome = back.statuses[0]
    assert (welcome["session"], welcome["session_id"]) == ("live", session_id), "the same session goes on"
    assert (welcome["last_seq"], welcome["resume_seq"]) == (2, 3)
    for seq in range(5):  # resent frames 0-2 are dropped, 3-4 are new
        await back.emit("audio", {"seq": seq, "pcm": SILENCE})
    await back.emit("pause")
    await back.wait_for(lambda: back.session == "paused")
    assert back.statuses[-1]["last_seq"] == 4
    assert back.statuses[-1]["audio_seconds"] == pytest.approx(0.5)
    async with server.http() as http:
        sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
    assert [(s["id"], s["ended_at"]) for s in sessions] == [(session_id, None)]
    await back.disconnect()


async def test_browser_captions_are_timed_from_their_first_words_and_never_overlap(server: Server) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    sentences = ["Ask not what your country can do for you.", "Ask what you can do for your country."]
    for number, sentence in enumerate(sentences, start=1):
        words = sentence.split()
        for size in range(2, len(words), 3):
            await speaker.emit("text", {"kind": "partial", "text": " ".join(words[:size])})
        await speaker.emit("text", {"kind": "final", "text": sentence})
        await speaker.wait_for(lambda n=number: len(speaker.finals) == n)  # type: ignore[misc]
    finals = await stored_finals(server, room["id"])
    assert [c["text"] for c in finals] == sentences
    for cue in finals:
        assert cue["end"] - cue["start"] >= 1.0, f"a spoken sentence takes time: {cue}"
    for before, after in itertools.pairwise(finals):
        assert after["start"] >= before["end"], f"{after} overlaps {before}"
    await speaker.disconnect()


async def test_event_floods_are_limited_for_presenters_and_viewers(
    server_settings: Settings, engine: Engine
) -> None:
    # A refill slow enough that no token comes back while the flood is sent, however slow the machine:
    # the bound below is then exact instead of depending on how long the loop took.
    trickle = server_settings.model_copy(update={"event_rate": 0.001})
    async with Server(trickle, engine) as server:
        room = await server.create_room()
        speaker = await presenter(server, room).connect()
        audience = await viewer(server, room["id"]).connect()
        burst = server.settings.event_burst
        sent = burst + 20
        for _ in range(sent):
            await speaker.emit("correct", {"id": "nope:0", "text": "x"})
            await audience.emit("launch-missiles")
        for client, accepted in ((speaker, "unknown_caption"), (audience, "unknown_event")):
            await client.wait_for(lambda c=client: len(c.errors) == sent)  # type: ignore[misc]
            codes = [e["code"] for e in client.errors]
            assert (codes.count(accepted), codes.count("rate_limited")) == (burst, 20), codes
        for client in (speaker, audience):
            await client.disconnect()


async def test_a_late_joiner_gets_the_last_catchup_finals_and_a_bad_last_id_is_a_normal_join(
    server_settings: Settings, engine: Engine
) -> None:
    async with Server(server_settings.model_copy(update={"catchup_finals": 3}), engine) as small:
        room = await small.create_room()
        speaker = await presenter(small, room).connect()
        for n in range(5):
            await speaker.emit("text", {"kind": "final", "text": f"Sentence {n}."})
        await speaker.wait_for(lambda: len(speaker.finals) == 5)
        expected = [c["text"] for c in speaker.finals[-3:]]
        for last_id in (None, "x:²", "s:" + "1" * 60):
            late = await viewer(small, room["id"], last_id=last_id).connect()
            await late.wait_for(lambda late=late: len(late.finals) == 3)  # type: ignore[misc]
            assert [c["text"] for c in late.finals] == expected, last_id
            assert late.errors == []
            await late.disconnect()
        await speaker.disconnect()


async def test_viewer_counts_reach_the_room_at_most_every_status_interval(
    server_settings: Settings, engine: Engine
) -> None:
    async with Server(server_settings.model_copy(update={"status_interval_s": 1.0}), engine) as slow:
        room = await slow.create_room()
        watcher = await viewer(slow, room["id"]).connect()
        await watcher.wait_for(lambda: watcher.statuses != [] and watcher.statuses[-1]["viewers"] == 1)
        before = len(watcher.statuses)
        crowd: list[Client] = [await viewer(slow, room["id"]).connect() for _ in range(20)]
        await watcher.wait_for(lambda: watcher.statuses[-1]["viewers"] == 21, within_s=5)
        assert len(watcher.statuses) - before <= 3, "twenty joins, a status or two, not twenty"
        for client in [watcher, *crowd]:
            await client.disconnect()

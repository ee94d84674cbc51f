"""A presenter streams real speech in real time; viewers join, drop and come back; transcripts match."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from tests.support.harness import Client, Server, pcm_frames, presenter, stored_finals, stream, viewer
from tests.support.speech import SpeechCorpus, normalise, word_error_rate
from tests.support.subtitles import parse_blocks


def has_finals(client: Client, count: int) -> bool:
    return len(client.finals) == count


def texts(finals: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["id"], c["text"]) for c in finals]


async def test_a_live_room_from_microphone_to_every_viewer_and_the_transcript(
    server: Server, speech: SpeechCorpus
) -> None:
    room = await server.create_room()
    early = [await viewer(server, room["id"]).connect() for _ in range(2)]
    dropping = await viewer(server, room["id"]).connect()
    speaker = await presenter(server, room).connect()

    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path("jfk.wav"))))
    await dropping.wait_for(lambda: len(dropping.finals) >= 2)
    seen_before_drop = list(dropping.captions)
    await dropping.disconnect()
    await asyncio.sleep(2.0)  # captions go on while it is away
    back = await viewer(server, room["id"], last_id=dropping.last_id).connect()
    await asyncio.sleep(1.0)
    late = await viewer(server, room["id"]).connect()
    await talk
    await speaker.emit("stop")
    for client in [*early, back, late]:
        await client.wait_for(client.ended)
    # ``ended`` comes once the last final is stored: the transcript is complete now, not after a while.
    stored = len(await stored_finals(server, room["id"]))
    for client in [*early, late]:
        await client.wait_for(partial(has_finals, client, stored))
    missed = stored - sum(c["kind"] == "final" for c in seen_before_drop)
    await back.wait_for(lambda: len(back.finals) == missed)

    reference = early[0].finals
    assert any(c["kind"] == "partial" for c in early[0].captions), "viewers see words before they settle"
    assert word_error_rate(speech.reference("jfk.wav"), " ".join(c["text"] for c in reference)) <= 0.15
    assert texts(early[1].finals) == texts(reference)
    assert texts(late.finals) == texts(reference), "a late joiner catches up on the live session"
    rejoined = [c for c in seen_before_drop if c["kind"] == "final"] + back.finals
    assert texts(rejoined) == texts(reference), "a reconnecting viewer misses nothing and gets nothing twice"
    assert speaker.finals == reference, "the presenter sees its own captions"
    session_id = reference[0]["session_id"]

    async with server.http() as http:
        as_json = (await http.get(f"/api/rooms/{room['id']}/transcript.json")).json()
        vtt = await http.get(f"/api/rooms/{room['id']}/sessions/{session_id}/transcript.vtt")
        srt = await http.get(f"/api/rooms/{room['id']}/transcript.srt")
        sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
    assert [(c["id"], c["text"]) for c in as_json["cues"]] == texts(reference)
    assert vtt.headers["content-type"].startswith("text/vtt")
    cues = parse_blocks(vtt.text.removeprefix("WEBVTT\n\n"), ".")
    assert normalise(" ".join(text for _, _, text in cues)) == normalise(
        " ".join(t for _, t in texts(reference))
    )
    assert [text for *_, text in parse_blocks(srt.text, ",")] == [text for *_, text in cues]
    assert len(cues) < len(reference), "subtitles join the live finals into sentences"
    assert [(s["id"], s["state"]) for s in sessions] == [(session_id, "ended")]
    assert sessions[0]["ended_at"] is not None
    for client in [*early, back, late, speaker]:
        await client.disconnect()

"""Bad input gets an ``error`` with a code and never harms the room or other rooms."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.harness import Client, Server, pcm_frames, presenter, stream, viewer
from tests.support.speech import SpeechCorpus, normalise, word_error_rate
from tests.support.subtitles import parse_blocks


async def refusal(server: Server, auth: Any) -> dict[str, Any]:
    """What the server said in ``connect_error`` (as a browser's socket.io-client sees it)."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[dict[str, Any]] = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert reasons, "the refusal should carry a reason"
    return reasons[0]


async def test_connections_are_refused_with_a_reason(server: Server) -> None:
    room = await server.create_room()
    cases = {
        "unknown_room": {"room": "no-such-room", "role": "viewer"},
        "bad_key": {"room": room["id"], "role": "presenter", "key": "guess"},
        "bad_auth": {"room": room["id"], "role": "admin"},
    }
    for code, auth in cases.items():
        reason = await refusal(server, auth)
        assert reason.get("data", {}).get("code") == code, reason
        assert reason["message"]
    assert (await refusal(server, None)).get("data", {}).get("code") == "bad_auth"
    assert (await refusal(server, {"room": room["id"], "role": "presenter"})).get("data", {}).get(
        "code"
    ) == "bad_key"


async def test_each_bad_event_gets_its_code_and_the_room_keeps_working(server: Server) -> None:
    room, other_room = await server.create_room(), await server.create_room("Other")
    speaker = await presenter(server, room).connect()
    audience = await viewer(server, room["id"]).connect()
    other = await presenter(server, other_room).connect()

    await audience.emit("audio", {"seq": 0, "pcm": b"\x00\x00" * 160})
    assert (await audience.error("forbidden"))["message"]
    await audience.emit("correct", {"id": "x:0", "text": "hacked"})
    await speaker.emit("audio", {"seq": 0, "pcm": b"\x00" * (server.settings.max_frame_bytes + 2)})
    await speaker.error("frame_too_large")
    await speaker.emit("audio", {"seq": 1, "pcm": b"\x00\x01\x02"})
    await speaker.error("bad_frame_length")
    await speaker.emit("audio", {"seq": "one", "pcm": "not bytes"})
    await speaker.error("bad_payload")
    await speaker.emit("audio", "just a string")
    await speaker.emit("text", {"kind": "final", "text": "x" * 5000})
    await speaker.emit("correct", {"id": "nope:3", "text": "fixed"})
    await speaker.error("unknown_caption")
    await speaker.emit("launch-missiles", {"now": True})
    await speaker.error("unknown_event")
    # A wrongly typed frame, a frame that is not an object, and a too-long text: each refused on its own.
    assert sum(e["code"] == "bad_payload" for e in speaker.errors) == 3
    await audience.wait_for(lambda: sum(e["code"] == "forbidden" for e in audience.errors) == 2, within_s=5)

    # 40 s of audio at once is far past the burst a reconnect may resend.
    second = b"\x00\x00" * 16_000
    for seq in range(2, 42):
        await speaker.emit("audio", {"seq": seq, "pcm": second})
    await speaker.error("rate_limited")

    # The presenter's room still works, and the other room never noticed.
    await speaker.emit("text", {"kind": "final", "text": "Still here."})
    await audience.wait_for(lambda: any(c["text"] == "Still here." for c in audience.finals))
    assert other.errors == []
    await other.emit("text", {"kind": "final", "text": "Other room."})
    await other.wait_for(lambda: any(c["text"] == "Other room." for c in other.finals))
    assert not any(c["text"] == "Other room." for c in audience.captions)
    for client in (speaker, audience, other):
        await client.disconnect()


async def test_resent_frames_are_transcribed_once(server: Server, speech: SpeechCorpus) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    frames = pcm_frames(speech.path("spk1_snt3.wav"))
    half = len(frames) // 2
    await stream(speaker, frames[:half], realtime=False)
    # A reconnecting client resends what it buffered: frames the server already has come again.
    await stream(speaker, frames, realtime=False)
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    metrics = await server.metrics()
    received = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("captions_audio_seconds_received_total")
    )
    assert received == pytest.approx(len(frames) * 0.1, abs=0.11)
    await speaker.wait_for(lambda: "pure" in normalise(" ".join(c["text"] for c in speaker.finals)))
    text = " ".join(c["text"] for c in speaker.finals)
    assert word_error_rate(speech.reference("spk1_snt3.wav"), text) <= 0.2, text
    await speaker.disconnect()


async def test_corrections_and_browser_text_reach_everyone_and_the_transcript(server: Server) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    audience = await viewer(server, room["id"]).connect()
    await speaker.emit("text", {"kind": "partial", "text": "ask not what"})
    await speaker.emit("text", {"kind": "final", "text": "Ask not what your country can do for you."})
    await audience.wait_for(lambda: len(audience.finals) == 1)
    partial, final = audience.captions[0], audience.finals[0]
    assert partial["kind"] == "partial"
    assert partial["id"] == final["id"], "a partial carries the id its final takes"

    await speaker.emit("correct", {"id": final["id"], "text": "Ask not what your country can do for you!"})
    await audience.wait_for(lambda: any(c["kind"] == "correction" for c in audience.captions))
    correction = audience.captions[-1]
    assert (correction["id"], correction["text"]) == (
        final["id"],
        "Ask not what your country can do for you!",
    )
    async with server.http() as http:
        txt = (await http.get(f"/api/rooms/{room['id']}/transcript.txt")).text
    assert txt == "Ask not what your country can do for you!\n"
    for client in (speaker, audience):
        await client.disconnect()


async def test_one_correction_replaces_a_sentence_said_over_several_finals(server: Server) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    audience = await viewer(server, room["id"]).connect()
    for text in ("Unless a system", "is established.", "For the frequent", "formal review."):
        await speaker.emit("text", {"kind": "final", "text": text})
    await audience.wait_for(lambda: len(audience.finals) == 4)
    ids = [c["id"] for c in audience.finals]

    await speaker.emit(
        "correct", {"id": ids[0], "through": ids[2], "text": "Unless a system is established for the"}
    )
    await audience.wait_for(lambda: any(c["kind"] == "correction" for c in audience.captions))
    corrections = [(c["id"], c["text"], c["through"]) for c in audience.captions if c["kind"] == "correction"]
    assert corrections == [(ids[0], "Unless a system is established for the", ids[2])], (
        "one event for the range"
    )
    async with server.http() as http:
        txt = (await http.get(f"/api/rooms/{room['id']}/transcript.txt")).text
        vtt = (await http.get(f"/api/rooms/{room['id']}/transcript.vtt")).text
    assert txt == "Unless a system is established for the formal review.\n"
    assert [text for *_, text in parse_blocks(vtt.removeprefix("WEBVTT\n\n"), ".")] == [
        "Unless a system is established for the formal review."
    ]

    await speaker.emit("correct", {"id": ids[2], "through": ids[0], "text": "backwards"})
    await speaker.emit("correct", {"id": ids[0], "through": "another:3", "text": "elsewhere"})
    await speaker.emit("correct", {"id": ids[0], "through": ids[0][:-1] + "999", "text": "too many"})
    await speaker.wait_for(lambda: sum(e["code"] == "bad_range" for e in speaker.errors) == 3, within_s=5)
    for client in (speaker, audience):
        await client.disconnect()


async def test_a_second_presenter_connection_replaces_the_first(server: Server) -> None:
    room = await server.create_room()
    first = await presenter(server, room).connect()
    second: Client = await presenter(server, room).connect()
    await first.error("presenter_replaced")
    await second.emit("start")
    await second.wait_for(lambda: any(s["session"] == "live" for s in second.statuses))
    await second.disconnect()


async def test_a_pause_of_any_length_keeps_the_session_and_a_presenter_gone_too_long_ends_it(
    server_settings: Settings, engine: Engine
) -> None:
    timeout_s = 0.6
    quick_settings = server_settings.model_copy(
        update={"presenter_timeout_s": timeout_s, "presenter_stall_s": 0.3}
    )
    async with Server(quick_settings, engine) as quick:
        room = await quick.create_room()
        speaker = await presenter(quick, room).connect()
        audience = await viewer(quick, room["id"]).connect()
        await speaker.emit("audio", {"seq": 0, "pcm": b"\x00\x00" * 1600})
        await speaker.wait_for(lambda: speaker.session == "live")
        await speaker.emit("pause")
        await speaker.wait_for(lambda: speaker.session == "paused")
        await asyncio.sleep(4 * timeout_s)  # time passing is the point: a paused talk waits for its presenter
        await speaker.emit("audio", {"seq": 1, "pcm": b"\x00\x00" * 1600})
        await speaker.wait_for(lambda: speaker.session == "live")
        await speaker.emit("pause")
        await speaker.wait_for(lambda: speaker.session == "paused")
        assert all(s["presenter_connected"] for s in audience.statuses), "a pause is silent on purpose"
        assert speaker.statuses[-1]["last_seq"] == 1, "a presenter resumes numbering after the last frame"
        assert speaker.statuses[-1]["resume_seq"] == 2
        assert len({s["session_id"] for s in speaker.statuses if s["session_id"]}) == 1, (
            "one talk, one session"
        )
        await speaker.disconnect()
        await audience.wait_for(audience.ended, within_s=5)
        states = [s["session"] for s in audience.statuses]
        assert states.index("stopping") < states.index("ended")
        async with quick.http() as http:
            sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
        assert [(s["state"], s["ended_at"] is not None) for s in sessions] == [("ended", True)]
        await audience.disconnect()


async def test_a_presenter_whose_audio_stops_mid_talk_is_away_for_its_audience_until_the_audio_comes_again(
    server_settings: Settings, engine: Engine
) -> None:
    """Its network dropped without closing the connection: its frames stop and nothing else happens (Engine.IO
    would notice at its ping timeout, tens of seconds later). Its audience is told within presenter_stall_s; its
    next frames (the app resends what it kept) bring it back."""
    async with Server(server_settings.model_copy(update={"presenter_stall_s": 0.5}), engine) as quick:
        room = await quick.create_room()
        speaker = await presenter(quick, room).connect()
        audience = await viewer(quick, room["id"]).connect()

        def presenter_shown(connected: bool) -> bool:
            last = audience.statuses[-1] if audience.statuses else {}
            return last.get("session") == "live" and last.get("presenter_connected") is connected

        for seq in range(3):
            await speaker.emit("audio", {"seq": seq, "pcm": b"\x00\x00" * 1600})
        await audience.wait_for(lambda: presenter_shown(True))
        await audience.wait_for(lambda: presenter_shown(False))
        assert speaker.sio.connected, "only its audio stopped"
        await speaker.emit("audio", {"seq": 3, "pcm": b"\x00\x00" * 1600})
        await audience.wait_for(lambda: presenter_shown(True))
        for client in (speaker, audience):
            await client.disconnect()


async def test_a_reconnecting_presenter_catches_up_on_its_own_captions(server: Server) -> None:
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    await speaker.emit("text", {"kind": "final", "text": "First words."})
    await speaker.wait_for(lambda: len(speaker.finals) == 1)
    last_id = speaker.last_id
    await speaker.disconnect()
    helper = await presenter(server, room).connect()
    await helper.emit("text", {"kind": "final", "text": "Said while the first tab was away."})
    await helper.wait_for(lambda: len(helper.finals) >= 1)
    await helper.disconnect()
    back = Client(server.url, {**speaker.auth, "last_id": last_id})
    await back.connect()
    await back.wait_for(lambda: len(back.finals) == 1)
    assert [c["text"] for c in back.finals] == ["Said while the first tab was away."]
    await back.disconnect()

"""The REST side: rooms, keys, sessions, transcripts, QR codes, health and metrics; and restarts."""

from __future__ import annotations

import asyncio
from typing import Any, get_args

from captions.asr.engine import Engine
from captions.protocol import ErrorCode
from captions.settings import Settings
from tests.support.harness import Server, pcm_frames, presenter, stream
from tests.support.speech import SpeechCorpus

ERROR_CODES = set(get_args(ErrorCode))


async def test_rooms_are_created_described_and_deleted_with_the_key(server: Server) -> None:
    room = await server.create_room("Opening keynote")
    assert len(room["id"]) >= 10
    assert room["viewer_url"] == f"{server.url}/r/{room['id']}"
    assert room["embed_url"] == f"{server.url}/embed/{room['id']}"
    async with server.http() as http:
        info = (await http.get(f"/api/rooms/{room['id']}")).json()
        assert (info["title"], info["live"], info["viewers"]) == ("Opening keynote", False, 0)
        # What the web app asks before it reads a transcript: a room that never had a session has none.
        assert info["has_transcript"] is False
        assert (await http.get(f"/api/rooms/{room['id']}/transcript.json")).status_code == 404
        assert "presenter_key" not in info
        refused = await http.delete(f"/api/rooms/{room['id']}", headers={"X-Presenter-Key": "wrong"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        deleted = await http.delete(
            f"/api/rooms/{room['id']}", headers={"X-Presenter-Key": room["presenter_key"]}
        )
        assert deleted.status_code == 204
        gone = await http.get(f"/api/rooms/{room['id']}")
        assert gone.status_code == 404
        assert gone.json()["title"] == "Room not found"


async def test_bad_requests_are_problem_responses(server: Server) -> None:
    room = await server.create_room()
    async with server.http() as http:
        for response in (
            await http.post("/api/rooms", json={"title": ""}),
            await http.post("/api/rooms", json={"title": "x", "language": "<b>"}),
            await http.post("/api/rooms", content=b"not json", headers={"content-type": "application/json"}),
            await http.get(f"/api/rooms/{room['id']}/transcript.docx"),
            await http.get("/api/rooms/bad%20id!"),
        ):
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["detail"]
            assert response.json()["code"] in ERROR_CODES, "the web app says what happened by the code"
        no_session = await http.get(f"/api/rooms/{room['id']}/transcript.vtt")
        assert (no_session.status_code, no_session.json()["code"]) == (404, "no_session_yet")
        unknown_session = await http.get(f"/api/rooms/{room['id']}/sessions/nope/transcript.vtt")
        assert (unknown_session.status_code, unknown_session.json()["code"]) == (404, "unknown_session")
        for response in (await http.get("/api/nothing-here"), await http.put("/api/rooms")):
            assert response.json()["code"] in ERROR_CODES


async def test_the_server_says_what_it_transcribes_and_refuses_rooms_in_other_languages(
    server: Server,
) -> None:
    async with server.http() as http:
        offered = (await http.get("/api/capabilities")).json()
        german = await http.post("/api/rooms", json={"title": "Vortrag", "language": "de"})
        british = await http.post("/api/rooms", json={"title": "Talk", "language": "en-GB"})
    assert offered["recognizers"]["local"]["languages"] == ["en"]
    assert offered["default"] == "local"
    assert german.status_code == 422
    assert german.json()["code"] == "unsupported_language"
    assert "transcribes en" in german.json()["detail"]
    assert british.status_code == 201, "a regional code of a language the recogniser speaks is that language"
    assert british.json()["language"] == "en-GB"


async def test_a_room_tells_its_audience_who_captions_it(server: Server) -> None:
    async with server.http() as http:
        own = (
            await http.post("/api/rooms", json={"title": "Panel", "notice": "Live captions by  Jane Doe"})
        ).json()
        plain = (await http.post("/api/rooms", json={"title": "Talk"})).json()
        too_long = await http.post("/api/rooms", json={"title": "Talk", "notice": "x" * 121})
        own_info = (await http.get(f"/api/rooms/{own['id']}")).json()
        plain_info = (await http.get(f"/api/rooms/{plain['id']}")).json()
        transcript_page = (await http.get(f"/embed/{own['id']}?lines=all")).text
        overlay_page = (await http.get(f"/embed/{own['id']}?lines=2")).text
    assert own_info["notice"] == "Live captions by Jane Doe"
    assert plain_info["notice"] == "Automatic captions: they may contain mistakes."
    assert too_long.status_code == 422
    assert "Live captions by Jane Doe" in transcript_page
    assert "Live captions by Jane Doe" not in overlay_page, "an overlay on a video shows only the captions"


async def test_qr_codes_health_and_metrics(server: Server) -> None:
    room = await server.create_room()
    async with server.http() as http:
        svg = await http.get(f"/api/rooms/{room['id']}/qr.svg")
        png = await http.get(f"/api/rooms/{room['id']}/qr.png")
        assert svg.headers["content-type"] == "image/svg+xml"
        assert "<svg" in svg.text
        assert png.content.startswith(b"\x89PNG")
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        openapi = (await http.get("/openapi.json")).json()
    metrics = await server.metrics()
    for name, kind in (
        ("captions_viewers", "gauge"),
        ("captions_rooms_live", "gauge"),
        ("captions_audio_seconds_received_total", "counter"),
        ("captions_caption_latency_seconds", "histogram"),
        ("captions_inference_realtime_factor_max", "gauge"),
        ("captions_transcription_lag_max_seconds", "gauge"),
    ):
        assert f"# TYPE {name} {kind}" in metrics, name
    assert "/api/rooms/{room_id}/transcript.{fmt}" in openapi["paths"]


async def test_a_restarted_server_serves_the_same_rooms_and_transcripts(
    server_settings: Settings, engine: Engine, speech: SpeechCorpus
) -> None:
    async with Server(server_settings, engine) as first:
        room, before, sessions = await stream_a_session(first, speech)
    async with Server(server_settings, engine) as second, second.http() as http:
        assert (await http.get(f"/api/rooms/{room['id']}")).json()["title"] == "Survives restarts"
        assert (await http.get(f"/api/rooms/{room['id']}/sessions")).json() == sessions
        assert (await http.get(f"/api/rooms/{room['id']}/transcript.json")).json() == before
    assert before["cues"], "the session had captions to keep"


async def stream_a_session(first: Server, speech: SpeechCorpus) -> tuple[dict[str, Any], Any, Any]:
    room = await first.create_room("Survives restarts")
    speaker = await presenter(first, room).connect()
    await stream(speaker, pcm_frames(speech.path("spk1_snt1.wav")), realtime=False)
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    async with first.http() as http:
        before = (await http.get(f"/api/rooms/{room['id']}/transcript.json")).json()
        sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
    await speaker.disconnect()
    return room, before, sessions


async def test_links_need_an_allowed_host_without_a_public_url(server: Server) -> None:
    async with server.http() as http:
        forged = await http.post("/api/rooms", json={"title": "Forged"}, headers={"Host": "evil.example"})
        assert (forged.status_code, forged.json()["code"]) == (400, "untrusted_host")
        room = (await http.post("/api/rooms", json={"title": "Local"})).json()
        qr = await http.get(f"/api/rooms/{room['id']}/qr.svg", headers={"Host": "evil.example"})
        assert qr.status_code == 400
    assert room["viewer_url"].startswith(server.url)


async def test_api_docs_come_from_the_pinned_package_when_enabled(
    server_settings: Settings, engine: Engine
) -> None:
    server = Server(server_settings.model_copy(update={"api_docs": True}), engine)
    async with server, server.http() as http:
        page = await http.get("/docs")
        script = await http.get("/docs-assets/swagger-ui-bundle.js")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert script.status_code == 200


async def test_ended_sessions_go_after_the_retention_period_and_live_ones_stay(
    server_settings: Settings, engine: Engine
) -> None:
    retention = server_settings.model_copy(update={"transcript_retention_days": 1 / 86_400})  # a second
    async with Server(retention, engine) as server:
        room = await server.create_room("Kept a second")
        speaker = await presenter(server, room).connect()
        await speaker.emit("text", {"kind": "final", "text": "Gone soon."})
        await speaker.wait_for(lambda: bool(speaker.finals))
        await speaker.emit("stop")
        await speaker.wait_for(speaker.ended)
        await speaker.emit("text", {"kind": "final", "text": "Still talking."})
        await speaker.wait_for(lambda: len(speaker.finals) == 2)
        ended, live = dict.fromkeys(s["session_id"] for s in speaker.statuses if s["session_id"])
        async with server.http() as http:
            for _ in range(100):  # swept every half retention period
                sessions = (await http.get(f"/api/rooms/{room['id']}/sessions")).json()
                if [s["id"] for s in sessions] == [live]:
                    break
                await asyncio.sleep(0.1)
            assert [s["id"] for s in sessions] == [live], "the ended session went, the live one stays"
            gone = await http.get(f"/api/rooms/{room['id']}/sessions/{ended}/transcript.txt")
            assert gone.status_code == 404
            assert (await http.get(f"/api/rooms/{room['id']}/transcript.txt")).text == "Still talking.\n"
        await speaker.disconnect()


async def test_rooms_never_used_expire_and_used_ones_stay(server_settings: Settings, engine: Engine) -> None:
    async with Server(server_settings.model_copy(update={"unused_room_ttl_s": 1.0}), engine) as server:
        used = await server.create_room("Used")
        speaker = await presenter(server, used).connect()
        await speaker.emit("start")
        await speaker.wait_for(lambda: speaker.session == "live")
        await speaker.disconnect()
        unused = await server.create_room("Never used")
        async with server.http() as http:
            assert (await http.get(f"/api/rooms/{used['id']}")).json()["has_transcript"] is True
            for _ in range(100):  # swept every half TTL
                if (await http.get(f"/api/rooms/{unused['id']}")).status_code == 404:
                    break
                await asyncio.sleep(0.1)
            assert (await http.get(f"/api/rooms/{unused['id']}")).status_code == 404
            assert (await http.get(f"/api/rooms/{used['id']}")).status_code == 200

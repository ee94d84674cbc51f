"""The REST side: rooms, keys, sessions, transcripts, QR codes, health and metrics; and restarts."""

from __future__ import annotations

from typing import Any

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.harness import Server, pcm_frames, presenter, stream
from tests.support.speech import SpeechCorpus


async def test_rooms_are_created_described_and_deleted_with_the_key(server: Server) -> None:
    room = await server.create_room("Opening keynote")
    assert len(room["id"]) >= 10
    assert room["viewer_url"] == f"{server.url}/r/{room['id']}"
    assert room["embed_url"] == f"{server.url}/embed/{room['id']}"
    async with server.http() as http:
        info = (await http.get(f"/api/rooms/{room['id']}")).json()
        assert (info["title"], info["live"], info["viewers"]) == ("Opening keynote", False, 0)
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
        no_session = await http.get(f"/api/rooms/{room['id']}/transcript.vtt")
        assert no_session.status_code == 404
        unknown_session = await http.get(f"/api/rooms/{room['id']}/sessions/nope/transcript.vtt")
        assert unknown_session.status_code == 404


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

"""Rooms on each recogniser through ``captions serve``: chosen at creation among those configured, captions to
viewers whichever produced them, a cloud failure carried on by the local model and told to the presenter, and
the room's vocabulary travelling from the presenter to the service. Google is a local fake of its gRPC
service (tests/support/fake_google.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.fake_azure import FakeAzureSpeech
from tests.support.fake_google import FakeSpeech
from tests.support.harness import Server, pcm_frames, presenter, stored_finals, stream, viewer
from tests.support.speech import SpeechCorpus, word_error_rate

pytestmark = pytest.mark.slow


def settings_for(tmp_path: Path, fake: FakeSpeech, **more: Any) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        web_dir=tmp_path / "no-web",
        status_interval_s=0.2,
        google_project="talks",
        google_endpoint=fake.endpoint,
    )
    return settings.model_copy(update=more)


async def test_a_room_on_google_captions_like_any_other_and_falls_back_when_it_fails(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    async with FakeSpeech(engine) as fake, Server(settings_for(tmp_path, fake), engine) as server:
        fake.fail_after_s = 5.0
        async with server.http() as http:
            offered = (await http.get("/api/capabilities")).json()
            created = await http.post(
                "/api/rooms", json={"title": "Cloud", "recognizer": "google", "language": "en"}
            )
        assert set(offered["recognizers"]) == {"local", "google"}
        assert "en-US" in offered["recognizers"]["google"]["languages"]
        assert created.status_code == 201
        room = created.json()
        watcher = await viewer(server, room["id"]).record("recognizer").connect()
        speaker = presenter(server, room).record("recognizer", "vocabulary")
        await speaker.connect()
        await stream(speaker, pcm_frames(speech.path("jfk.wav")), realtime=False)
        await speaker.emit("stop")
        await watcher.wait_for(watcher.ended)
        await speaker.wait_for(lambda: bool(speaker.received["recognizer"]))
        finals = await stored_finals(server, room["id"])
        # The service is back: the next session asks it again.
        fake.fail_after_s = None
        streams_before, first = len(fake.received.configs), watcher.finals[-1]["session_id"]
        await stream(speaker, pcm_frames(speech.path("spk1_snt1.wav")), realtime=False, first_seq=1000)
        await speaker.emit("stop")
        await watcher.wait_for(lambda: watcher.ended() and watcher.finals[-1]["session_id"] != first)
    assert fake.received.configs[0].config.language_codes == ["en-US"], "the room's 'en' is Google's en-US"
    [notice] = speaker.received["recognizer"]
    assert notice == {"room": room["id"], "requested": "google", "active": "local",
                      "reason": "Google Speech-to-Text is unreachable"}  # fmt: skip
    assert watcher.received["recognizer"] == [], "viewers are not told"
    assert word_error_rate(speech.reference("jfk.wav"), " ".join(c["text"] for c in finals)) <= 0.25
    assert [c["text"] for c in watcher.finals[: len(finals)]] == [c["text"] for c in finals]
    assert len(fake.received.configs) > streams_before, "the second session went to Google"
    assert len(speaker.received["recognizer"]) == 1, "and needed no fallback"
    second = " ".join(c["text"] for c in watcher.finals if c["session_id"] != first)
    assert "dog" in second.lower()


async def test_the_room_vocabulary_goes_from_the_presenter_to_the_service(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path
) -> None:
    async with (
        FakeSpeech(engine) as fake,
        Server(settings_for(tmp_path, fake, google_stream_s=6.0), engine) as server,
    ):
        async with server.http() as http:
            room = (await http.post("/api/rooms", json={"title": "Cloud", "recognizer": "google",
                                                         "vocabulary": ["Kubernetes", " kubernetes ", "gRPC"]})).json()  # fmt: skip
        speaker = presenter(server, room).record("vocabulary")
        await speaker.connect()
        await speaker.wait_for(lambda: bool(speaker.received["vocabulary"]))
        assert speaker.received["vocabulary"][0] == {"terms": ["Kubernetes", "gRPC"], "learned": []}
        frames = pcm_frames(speech.path("jfk.wav"))
        await stream(speaker, frames[:40], realtime=False)
        # The first stream is open (its config sent) before the vocabulary changes: the change reaches the next one.
        await speaker.wait_for(lambda: bool(fake.received.configs))
        await speaker.emit("vocabulary", {"terms": ["Kubernetes", "gRPC", "Xiaomi"]})
        await speaker.wait_for(lambda: len(speaker.received["vocabulary"]) == 2)
        await stream(speaker, frames[40:], realtime=False, first_seq=40)
        await speaker.emit("vocabulary", {"terms": ["bad\nterm"]})
        refused = await speaker.error("bad_payload")
        await speaker.emit("stop")
        await speaker.wait_for(speaker.ended)
    phrases = [[p.value for s in c.config.adaptation.phrase_sets for p in s.inline_phrase_set.phrases]
               for c in fake.received.configs]  # fmt: skip
    assert phrases[0] == ["Kubernetes", "gRPC"]
    assert phrases[-1] == ["Kubernetes", "gRPC", "Xiaomi"], "a new stream takes the new terms"
    assert "terms" in refused["message"]


async def test_a_recogniser_not_configured_here_is_refused_with_how_to_enable_it(server: Server) -> None:
    async with server.http() as http:
        refused = await http.post("/api/rooms", json={"title": "Talk", "recognizer": "azure"})
        offered = (await http.get("/api/capabilities")).json()
    assert refused.status_code == 422
    assert refused.json()["code"] == "recognizer_not_configured"
    assert "CAPTIONS_AZURE_SPEECH_KEY" in refused.json()["detail"]
    assert offered == {"recognizers": {"local": {"languages": ["en"], "partials": True, "vocabulary": True,
                                                 "name": "This server (Whisper)"}}, "default": "local",
                       "room_creation": "open"}  # fmt: skip


async def test_corrections_teach_the_room_the_words_its_recogniser_got_wrong(
    server: Server, speech: SpeechCorpus
) -> None:
    room = await server.create_room()
    speaker = presenter(server, room).record("vocabulary")
    await speaker.connect()
    await stream(speaker, pcm_frames(speech.path("jfk.wav")), realtime=False)
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    first = speaker.finals[0]
    await speaker.emit("correct", {"id": first["id"], "text": f"{first['text']} Kubernetes the Xiaomi"})
    await speaker.wait_for(lambda: len(speaker.received["vocabulary"]) == 2)
    assert speaker.received["vocabulary"][-1] == {"terms": ["Kubernetes", "Xiaomi"],
                                                  "learned": ["Kubernetes", "Xiaomi"]}  # fmt: skip
    async with server.http() as http:
        info = (await http.get(f"/api/rooms/{room['id']}")).json()
    assert "vocabulary" not in info, "a room's terms are the presenter's business, not its audience's"


async def test_a_cloud_key_never_reaches_a_client_a_log_or_an_export(
    engine: Engine, speech: SpeechCorpus, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "azure-key-7f3c9d1e"
    async with FakeAzureSpeech(engine) as fake:
        fake.refuse_key = True
        settings = Settings(data_dir=tmp_path / "data", web_dir=tmp_path / "no-web", metrics_token="scraper")
        settings = settings.model_copy(
            update={"azure_speech_host": fake.host, "azure_speech_key": SecretStr(secret)}
        )
        async with Server(settings, engine) as server:
            async with server.http() as http:
                answers = [(await http.get("/api/capabilities")).text]
                room = (await http.post("/api/rooms", json={"title": "Cloud", "recognizer": "azure"})).json()
            speaker = presenter(server, room).record("recognizer")
            await speaker.connect()
            await stream(speaker, pcm_frames(speech.path("jfk.wav")), realtime=False)
            await speaker.emit("stop")
            await speaker.wait_for(speaker.ended)
            await speaker.wait_for(lambda: bool(speaker.received["recognizer"]))
            async with server.http() as http:
                answers.append((await http.get(f"/api/rooms/{room['id']}")).text)
                for kind in ("txt", "vtt", "srt", "json"):
                    answers.append((await http.get(f"/api/rooms/{room['id']}/transcript.{kind}")).text)
                answers.append(await server.metrics())
    assert speaker.received["recognizer"][0]["reason"] == "Azure Speech refused the key"
    assert "country" in answers[2].lower(), "the local model captioned the talk"
    seen = [*answers, str(speaker.received), str(speaker.captions), str(speaker.errors), caplog.text]
    assert all(secret not in text for text in seen)

"""The installed ``captions`` command, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.processes import CaptionsProcess
from tests.support.speech import SpeechCorpus, word_error_rate
from tests.support.subtitles import parse_blocks

CAPTIONS = Path(sys.executable).with_name("captions")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CAPTIONS), *args], capture_output=True, text=True, timeout=300, check=False)


def test_transcribe_writes_valid_vtt(speech: SpeechCorpus) -> None:
    result = run("transcribe", str(speech.path("jfk.flac")), "--format", "vtt")
    assert result.returncode == 0, result.stderr
    cues = parse_blocks(result.stdout.removeprefix("WEBVTT\n\n"), ".")
    assert cues
    assert all(start < end <= 11.1 for start, end, _ in cues)
    assert word_error_rate(speech.reference("jfk.flac"), " ".join(text for _, _, text in cues)) <= 0.1


def test_transcribe_json_and_txt_agree(speech: SpeechCorpus) -> None:
    as_json = run("transcribe", str(speech.path("spk1_snt3.wav")), "--format", "json")
    as_txt = run("transcribe", str(speech.path("spk1_snt3.wav")), "--format", "txt")
    text = " ".join(cue["text"] for cue in json.loads(as_json.stdout)["cues"])
    assert text.strip() == as_txt.stdout.strip()
    assert word_error_rate(speech.reference("spk1_snt3.wav"), text) <= 0.2


def test_simulate_json_prints_only_caption_events(speech: SpeechCorpus) -> None:
    result = run("simulate", str(speech.path("jfk.wav")), "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["kind"] for e in events} == {"partial", "final"}
    for event in events:
        assert set(event) == {"kind", "id", "text", "start", "end", "emitted_at"}
        assert event["emitted_at"] >= event["end"] - 0.05, "nothing is captioned before it is heard"
    text = " ".join(e["text"] for e in events if e["kind"] == "final")
    assert word_error_rate(speech.reference("jfk.wav"), text) <= 0.15


def test_missing_file_is_a_clear_error() -> None:
    result = run("transcribe", "no-such-file.wav")
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_a_file_that_is_not_audio_is_a_clear_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("these are not samples")
    result = run("simulate", str(notes))
    assert result.returncode == 2
    assert "cannot read audio" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_started_anywhere_serves_the_web_app(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = CaptionsProcess(
        "serve", {"CAPTIONS_DATA_DIR": str(tmp_path / "data")}, tmp_path, "serve", elsewhere
    )
    try:
        server.start()
        page = httpx.get(f"{server.url}/", timeout=10)
    finally:
        server.stop()
    assert page.status_code == 200
    assert "<app-root" in page.text, "the app's build is found from the package, not the working directory"

"""The Angular app in Chromium against the real server: presenter with a fake microphone, phone viewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from captions.asr.engine import Engine
from captions.audio.pcm import load_audio
from captions.protocol import SAMPLE_RATE
from captions.settings import Settings
from tests.e2e.test_embed_browser import ARTIFACTS, browser_tools, run_node
from tests.support.harness import Server
from tests.support.speech import SpeechCorpus, normalise, word_error_rate

WEB_BUILD = (
    Path(__file__).resolve().parents[2]
    / "apps"
    / "angular-captions"
    / "dist"
    / "angular-captions"
    / "browser"
)


async def test_presenter_speaks_and_a_phone_viewer_reads_along_through_a_reload(
    server_settings: Settings, engine: Engine, speech: SpeechCorpus
) -> None:
    node = browser_tools()
    if not (WEB_BUILD / "index.html").is_file():
        pytest.skip("the Angular app is not built (make test builds it)")
    wav = speech.path("talk.wav")
    seconds = len(load_audio(wav)) / SAMPLE_RATE
    async with Server(server_settings.model_copy(update={"web_dir": WEB_BUILD}), engine) as server:
        result = await run_node(
            node,
            "presenter-viewer.mjs",
            server.url,
            str(wav),
            str(ARTIFACTS),
            env={"WAV_SECONDS": f"{seconds:.1f}"},
        )
    viewer_text, transcript = str(result["viewerText"]), str(result["transcript"])
    assert word_error_rate(speech.reference("talk.wav"), viewer_text) <= 0.2, viewer_text
    assert normalise(viewer_text) == normalise(transcript), (
        "after a reload the viewer holds the whole transcript"
    )
    assert normalise(str(result["afterReload"])), "the reloaded viewer caught up at once"
    assert normalise(transcript) in normalise(str(result["presenterText"])), "the presenter sees its captions"
    assert result["browserRecognition"] == "Hello everyone, welcome to the keynote."
    assert "#token=" in str(result["privateLink"]), "a private room's link carries its token in the fragment"
    assert "private" in str(result["privateRefused"]), "without the token a private room does not open"
    assert "frame-ancestors 'none'" in str(result["appCsp"])
    assert result["cspViolations"] == [], "the app runs under its Content-Security-Policy"
    assert result["browserModeOffered"] is False
    assert "not available" in str(result["unsupportedNote"])
    for shot in ("viewer-phone.png", "viewer-phone-end.png", "presenter-console.png"):
        assert (ARTIFACTS / shot).stat().st_size > 0

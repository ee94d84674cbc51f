from __future__ import annotations

import pytest

from captions.languages import local_languages, unsupported
from captions.settings import Settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTIONS_STEP_S", "0.5")
    monkeypatch.setenv("CAPTIONS_CORS_ORIGINS", '["https://events.example"]')
    monkeypatch.setenv("MONGODB_URL", "mongodb://db/captions")
    settings = Settings()
    assert settings.step_s == 0.5
    assert settings.cors_origins == ["https://events.example"]
    assert settings.mongodb_url == "mongodb://db/captions"


def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTIONS_NUM_WORKERS", "0")
    with pytest.raises(ValueError, match="num_workers"):
        Settings()


def test_threads_follow_the_workers() -> None:
    assert Settings(num_workers=2, cpu_threads=0).inference_threads() >= 1
    assert Settings(cpu_threads=3).inference_threads() == 3


def test_the_local_recogniser_speaks_what_its_model_speaks() -> None:
    assert local_languages(Settings()) == ["en"], "the bundled model is tiny.en"
    assert local_languages(Settings(model="/models/faster-whisper-small.en/")) == ["en"]
    multilingual = local_languages(Settings(model="small"))
    assert {"en", "de", "ja"} <= set(multilingual)
    assert unsupported(Settings(model="small"), "pt-BR") is None
    assert unsupported(Settings(), "en-US") is None
    assert "transcribes en" in (unsupported(Settings(), "fr") or "")


def test_the_web_build_is_found_from_the_package_not_the_working_directory() -> None:
    assert Settings().web_dir.is_absolute()
    assert Settings().web_dir.parts[-4:] == ("angular-captions", "dist", "angular-captions", "browser")

from __future__ import annotations

import pytest

from captions.languages import local_languages
from captions.recognizers.catalog import (
    capabilities,
    configured,
    not_configured,
    resolve_language,
    unsupported,
)
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
    assert unsupported(Settings(model="small"), "local", "pt-BR") is None
    assert unsupported(Settings(), "local", "en-US") is None
    assert "transcribes en" in (unsupported(Settings(), "local", "fr") or "")


def test_cloud_recognisers_are_offered_only_when_configured() -> None:
    assert configured(Settings()) == ["local"]
    assert configured(Settings(azure_speech_key="k", azure_speech_region="westeurope")) == ["local", "azure"]
    assert configured(Settings(azure_speech_key="k")) == ["local"], "a key without a region reaches nothing"
    assert configured(Settings(azure_speech_host="ws://speech:5000", google_project="p")) == [
        "local",
        "azure",
        "google",
    ]
    why = not_configured(Settings(), "google") or ""
    assert "not configured" in why
    assert "CAPTIONS_GOOGLE_PROJECT" in why
    assert "no recogniser 'watson'" in (not_configured(Settings(), "watson") or "")
    offered = capabilities(Settings(google_project="p")).recognizers
    assert offered["local"].languages == ["en"]
    assert {"en-US", "de-DE", "ja-JP"} <= set(offered["google"].languages)


def test_a_rooms_language_is_named_as_each_recogniser_names_it() -> None:
    settings = Settings()
    assert resolve_language(settings, "local", "en-GB") == "en"
    assert resolve_language(settings, "azure", "en") == "en-US", "plain en is each service's own English"
    assert resolve_language(settings, "google", "en") == "en-US"
    assert resolve_language(settings, "azure", "en-gb") == "en-GB"
    assert resolve_language(settings, "google", "pt") == "pt-BR"
    assert resolve_language(settings, "google", "zh-TW") == "cmn-Hant-TW"
    assert resolve_language(settings, "google", "he") == "iw-IL"
    assert resolve_language(settings, "azure", "de-CH") == "de-CH"
    assert resolve_language(settings, "azure", "xx") is None
    assert "does not transcribe 'tlh'" in (unsupported(settings, "azure", "tlh") or "")


def test_a_cloud_key_never_shows_in_the_settings_text() -> None:
    settings = Settings(azure_speech_key="very-secret-key")
    assert "very-secret-key" not in repr(settings)
    assert "very-secret-key" not in str(settings.model_dump())


def test_the_web_build_is_found_from_the_package_not_the_working_directory() -> None:
    assert Settings().web_dir.is_absolute()
    assert Settings().web_dir.parts[-4:] == ("angular-captions", "dist", "angular-captions", "browser")

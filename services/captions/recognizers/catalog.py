"""Which recognisers this server has configured, what each transcribes, and a room's language in each one's
terms. Known from the settings alone: a gateway answers it without loading a model or a cloud SDK.
"""

from __future__ import annotations

from captions.languages import local_languages, primary
from captions.protocol import Capabilities, RecognizerInfo
from captions.settings import Settings

# Speech-to-text locales of Azure Speech (real-time) and of Google Speech-to-Text v2 (model "long"), as their
# documentation listed them in 2026. Within a language the most spoken locale comes first: a room's plain
# "en" becomes en-US. A locale missing here is refused at room creation rather than failing mid-talk.
AZURE_LANGUAGES = (
    "en-US", "en-GB", "en-AU", "en-CA", "en-GH", "en-HK", "en-IE", "en-IN", "en-KE", "en-NG", "en-NZ", "en-PH",
    "en-SG", "en-TZ", "en-ZA", "af-ZA", "am-ET", "ar-SA", "ar-AE", "ar-BH", "ar-DZ", "ar-EG", "ar-IL", "ar-IQ",
    "ar-JO", "ar-KW", "ar-LB", "ar-LY", "ar-MA", "ar-OM", "ar-PS", "ar-QA", "ar-SY", "ar-TN", "ar-YE", "as-IN",
    "az-AZ", "bg-BG", "bn-IN", "bs-BA", "ca-ES", "cs-CZ", "cy-GB", "da-DK", "de-DE", "de-AT", "de-CH", "el-GR",
    "es-ES", "es-AR", "es-BO", "es-CL", "es-CO", "es-CR", "es-CU", "es-DO", "es-EC", "es-GQ", "es-GT", "es-HN",
    "es-MX", "es-NI", "es-PA", "es-PE", "es-PR", "es-PY", "es-SV", "es-US", "es-UY", "es-VE", "et-EE", "eu-ES",
    "fa-IR", "fi-FI", "fil-PH", "fr-FR", "fr-BE", "fr-CA", "fr-CH", "ga-IE", "gl-ES", "gu-IN", "he-IL", "hi-IN",
    "hr-HR", "hu-HU", "hy-AM", "id-ID", "is-IS", "it-IT", "it-CH", "ja-JP", "jv-ID", "ka-GE", "kk-KZ", "km-KH",
    "kn-IN", "ko-KR", "lo-LA", "lt-LT", "lv-LV", "mk-MK", "ml-IN", "mn-MN", "mr-IN", "ms-MY", "mt-MT", "my-MM",
    "nb-NO", "ne-NP", "nl-NL", "nl-BE", "or-IN", "pa-IN", "pl-PL", "ps-AF", "pt-BR", "pt-PT", "ro-RO", "ru-RU",
    "si-LK", "sk-SK", "sl-SI", "so-SO", "sq-AL", "sr-RS", "sv-SE", "sw-KE", "sw-TZ", "ta-IN", "te-IN", "th-TH",
    "tr-TR", "uk-UA", "ur-IN", "uz-UZ", "vi-VN", "wuu-CN", "yue-CN", "zh-CN", "zh-HK", "zh-TW", "zu-ZA",
)  # fmt: skip
GOOGLE_LANGUAGES = (
    "en-US", "en-GB", "en-AU", "en-CA", "en-IN", "en-IE", "en-NZ", "en-PH", "en-SG", "en-ZA", "af-ZA", "am-ET",
    "ar-EG", "ar-AE", "ar-SA", "ar-MA", "az-AZ", "bg-BG", "bn-BD", "bn-IN", "bs-BA", "ca-ES", "cs-CZ", "da-DK",
    "de-DE", "de-AT", "de-CH", "el-GR", "es-ES", "es-MX", "es-US", "es-AR", "es-CO", "es-CL", "es-PE", "et-EE",
    "eu-ES", "fa-IR", "fi-FI", "fil-PH", "fr-FR", "fr-CA", "fr-BE", "fr-CH", "gl-ES", "gu-IN", "hi-IN", "hr-HR",
    "hu-HU", "hy-AM", "id-ID", "is-IS", "it-IT", "iw-IL", "ja-JP", "jv-ID", "ka-GE", "kk-KZ", "km-KH", "kn-IN",
    "ko-KR", "lo-LA", "lt-LT", "lv-LV", "mk-MK", "ml-IN", "mn-MN", "mr-IN", "ms-MY", "my-MM", "ne-NP", "nl-NL",
    "nl-BE", "no-NO", "pa-Guru-IN", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "si-LK", "sk-SK", "sl-SI",
    "sq-AL", "sr-RS", "su-ID", "sv-SE", "sw-KE", "sw-TZ", "ta-IN", "te-IN", "th-TH", "tr-TR", "uk-UA", "ur-PK",
    "uz-UZ", "vi-VN", "cmn-Hans-CN", "cmn-Hant-TW", "yue-Hant-HK", "zu-ZA",
)  # fmt: skip
# Codes a room may use for the same language under another name.
_ALIASES = {"he": "iw", "zh": "cmn", "nb": "no", "iw": "he", "cmn": "zh"}

NAMES = {"local": "This server (Whisper)", "azure": "Azure Speech", "google": "Google Speech-to-Text"}
HOW_TO_CONFIGURE = {
    "local": "it is always available",
    "azure": "set CAPTIONS_AZURE_SPEECH_KEY and CAPTIONS_AZURE_SPEECH_REGION, or CAPTIONS_AZURE_SPEECH_HOST",
    "google": "set CAPTIONS_GOOGLE_PROJECT (credentials come from the environment, as for any Google library)",
}


def configured(settings: Settings) -> list[str]:
    """The recognisers this server can use, the local one first."""
    names = ["local"]
    if settings.azure_speech_host or (
        settings.azure_speech_key.get_secret_value() and settings.azure_speech_region
    ):
        names.append("azure")
    if settings.google_project:
        names.append("google")
    return names


def languages(settings: Settings, recognizer: str) -> list[str]:
    if recognizer == "azure":
        return list(AZURE_LANGUAGES)
    if recognizer == "google":
        return list(GOOGLE_LANGUAGES)
    return local_languages(settings)


def capabilities(settings: Settings) -> Capabilities:
    return Capabilities(
        recognizers={
            name: RecognizerInfo(
                languages=languages(settings, name), partials=True, vocabulary=True, name=NAMES[name]
            )
            for name in configured(settings)
        },
        default="local",
        room_creation=settings.room_creation,
    )


def not_configured(settings: Settings, recognizer: str) -> str | None:
    """Why a room cannot use ``recognizer`` here, or None when it can."""
    if recognizer in configured(settings):
        return None
    if recognizer in HOW_TO_CONFIGURE:
        return (
            f"the recogniser {recognizer!r} is not configured on this server; {HOW_TO_CONFIGURE[recognizer]}"
        )
    return f"there is no recogniser {recognizer!r}; this server has {', '.join(configured(settings))}"


def resolve_language(settings: Settings, recognizer: str, language: str) -> str | None:
    """The room's BCP-47 ``language`` as ``recognizer`` names it (``en`` -> ``en-US`` for a cloud service,
    ``en-GB`` -> ``en`` for Whisper), or None when it does not transcribe it."""
    spoken = languages(settings, recognizer)
    if recognizer == "local":
        return primary(language) if primary(language) in spoken else None
    wanted = language.lower()
    exact = next((code for code in spoken if code.lower() == wanted), None)
    if exact:
        return exact
    first = primary(language)
    names = {first, _ALIASES.get(first, first)}
    region = language.split("-")[-1].lower() if "-" in language else None
    matches = [code for code in spoken if primary(code) in names]
    if region:
        matches = [code for code in matches if code.split("-")[-1].lower() == region]
    return matches[0] if matches else None


def unsupported(settings: Settings, recognizer: str, language: str) -> str | None:
    """Why a room in ``language`` cannot be transcribed by ``recognizer``, or None when it can."""
    if resolve_language(settings, recognizer, language) is not None:
        return None
    spoken = languages(settings, recognizer)
    offered = ", ".join(spoken) if len(spoken) < 10 else f"{len(spoken)} languages (GET /api/capabilities)"
    return f"the recogniser {recognizer!r} does not transcribe {language!r}; it transcribes {offered}"

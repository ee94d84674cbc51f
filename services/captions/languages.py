"""What the local recogniser can transcribe, known from the configured model's name (no model is loaded: a
gateway answers it too).

Whisper's English-only models (``*.en``, the bundled tiny.en) speak English; the multilingual ones speak the
languages of Whisper's tokenizer, listed here as Whisper names them. Rooms carry BCP-47 codes: ``en-GB`` is
English for a recogniser that speaks ``en``.
"""

from __future__ import annotations

from pathlib import PurePath

from captions.settings import Settings

WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el",
    "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy",
    "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi",
    "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru",
    "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
)  # fmt: skip


def local_languages(settings: Settings) -> list[str]:
    """The bundled model (no name) is tiny.en."""
    name = PurePath(settings.model.rstrip("/")).name if settings.model else "tiny.en"
    return ["en"] if name.endswith(".en") else list(WHISPER_LANGUAGES)


def primary(code: str) -> str:
    """``en-GB`` -> ``en``: the part of a BCP-47 code a Whisper recogniser understands."""
    return code.split("-", 1)[0].lower()

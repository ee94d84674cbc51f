"""JSON Schemas of the protocol, written to ``shared/schemas/`` for the TypeScript side."""

from __future__ import annotations

import json
from pathlib import Path

from captions.destinations.models import DESTINATION_MODELS
from captions.protocol import EVENT_MODELS, REST_MODELS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def rendered_schemas() -> dict[str, str]:
    """File name -> content, for every event and REST body."""
    files = {}
    for name, model in {**EVENT_MODELS, **REST_MODELS, **DESTINATION_MODELS}.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"{name}.schema.json"
        files[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Files that are missing, different, or no longer generated."""
    expected = rendered_schemas()
    present = {p.name for p in directory.glob("*.schema.json")} if directory.is_dir() else set()
    stale = [
        n
        for n, text in expected.items()
        if not (directory / n).is_file() or (directory / n).read_text() != text
    ]
    return sorted(stale + sorted(present - expected.keys()))


def write_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    expected = rendered_schemas()
    for name in stale_schemas(directory):
        target = directory / name
        if name in expected:
            target.write_text(expected[name])
        else:
            target.unlink()
    return sorted(expected)

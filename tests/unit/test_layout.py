"""The architecture as the imports draw it: a gateway process loads no speech engine; the engine knows the
recogniser contract and nothing of rooms, buses or stores."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import captions

ENGINE_MODULES = (
    "faster_whisper",
    "ctranslate2",
    "av",
    "onnxruntime",
    "captions.asr",
    "captions.transcriber",
)


def test_a_gateway_imports_neither_the_engine_nor_the_transcriber() -> None:
    probe = (
        "import sys, captions.cli, captions.composition, captions.gateway.app; "
        "from captions.composition import gateway_app; "
        "from captions.settings import Settings; "
        "gateway_app(Settings(redis_url='redis://127.0.0.1:1/0')); "
        f"print(sorted(m for m in sys.modules if m.startswith({ENGINE_MODULES!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def imports_of(package: str) -> dict[str, set[str]]:
    """The ``captions`` modules each module of ``package`` imports, read from its source."""
    root = Path(captions.__file__).parent
    found: dict[str, set[str]] = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(root))] = {name for name in names if name.startswith("captions.")}
    return found


def test_the_engine_sits_below_the_recogniser_contract_and_knows_no_rooms() -> None:
    """``asr/`` emits the contract's values (``recognizers/events.py``) and imports nothing else of the product
    but settings, the audio format and its own; the contract's values import nothing of the product."""
    allowed = (
        "captions.asr",
        "captions.audio",
        "captions.protocol",
        "captions.settings",
        "captions.recognizers.events",
    )
    for module, names in imports_of("asr").items():
        assert {name for name in names if not name.startswith(allowed)} == set(), module
    assert imports_of("recognizers")["recognizers/events.py"] == set()

"""The architecture as the imports draw it: a gateway process loads no speech engine."""

from __future__ import annotations

import subprocess
import sys

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

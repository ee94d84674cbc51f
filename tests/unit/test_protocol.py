from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from captions.protocol import (
    MAX_CAPTION_CHARS,
    AudioFrame,
    Caption,
    ConnectAuth,
    ErrorCode,
    RoomCreate,
    TextCaption,
)
from captions.schemas import SCHEMA_DIR, rendered_schemas, stale_schemas


def test_checked_in_schemas_are_current() -> None:
    assert stale_schemas() == [], "run `captions export-schemas` and commit shared/schemas"


def test_every_schema_names_its_fields() -> None:
    caption = json.loads(rendered_schemas()["caption.schema.json"])
    assert set(caption["required"]) == {"id", "kind", "text", "start", "end", "session_id"}
    assert (SCHEMA_DIR / "caption.schema.json").is_file()


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (AudioFrame, {"seq": -1, "pcm": b""}),
        (AudioFrame, {"seq": 1}),
        (TextCaption, {"kind": "final", "text": "x" * (MAX_CAPTION_CHARS + 1)}),
        (TextCaption, {"kind": "correction", "text": "hi"}),
        (ConnectAuth, {"room": "../etc", "role": "viewer"}),
        (ConnectAuth, {"room": "abcdef", "role": "admin"}),
        (ConnectAuth, {"room": "abcdef", "role": "viewer", "extra": 1}),
        (RoomCreate, {"title": ""}),
        (RoomCreate, {"title": "Talk", "language": "<script>"}),
    ],
)
def test_malformed_payloads_are_refused(model: type[AudioFrame], payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_caption_round_trips_through_json() -> None:
    caption = Caption(id="s1-3", kind="final", text="Ask not.", start=2.3, end=3.9, session_id="s1")
    assert Caption.model_validate_json(caption.model_dump_json()) == caption


def test_every_code_the_edge_sends_is_one_the_clients_know() -> None:
    """nginx answers some requests itself (rate limits, large bodies, a restarting service): its problem
    responses carry codes of the protocol, which the web app has a sentence for."""
    configs = (Path(__file__).parents[2] / "infra" / "nginx").glob("*.conf")
    codes = {code for config in configs for code in re.findall(r'"code":"([a-z_]+)"', config.read_text())}
    assert codes >= {"rate_limited", "body_too_large", "unavailable"}
    assert codes <= set(get_args(ErrorCode))

"""A room's vocabulary through the real model: a talk's jargon comes out spelled as the room spells it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from captions.asr.engine import Engine
from captions.audio.pcm import float32_to_pcm16, load_audio, split_frames

pytestmark = pytest.mark.slow

SAID = "We deployed it on Kubernetes, and Kubernetes kept it running. Then we moved the build to GitLab."
TERMS = ("Kubernetes", "GitLab", "Xiaomi", "Siobhan Okonkwo")


async def finals(engine: Engine, wav: Path, given: Sequence[str] = (), *, later: Sequence[str] = ()) -> str:
    stream = engine.open_stream(coalesce=False, vocabulary=given)
    if later:
        stream.set_vocabulary(later)  # a presenter's change reaches a stream in progress
    texts: list[str] = []

    async def feed() -> None:
        for frame in split_frames(load_audio(wav), 0.1):
            await stream.feed(float32_to_pcm16(frame))
        await stream.finish()

    feeding = asyncio.create_task(feed())
    async for event in stream.events():
        if event.kind == "final":
            texts.append(event.text)
    await feeding
    return " ".join(texts)


async def test_the_rooms_terms_come_out_spelled_as_the_room_spells_them(
    engine: Engine, synthesise: Callable[[str], Path]
) -> None:
    wav = synthesise(SAID)
    plain = await finals(engine, wav)
    assert "Kubernetes" not in plain, "the model alone does not know the term (else this test shows nothing)"
    with_terms = await finals(engine, wav, TERMS)
    assert with_terms.count("Kubernetes") == 2
    assert "GitLab" in with_terms
    assert await finals(engine, wav, later=TERMS) == with_terms, "terms set on a live stream count the same"


async def test_speech_that_names_no_term_is_recognised_as_without_a_vocabulary(
    engine: Engine, synthesise: Callable[[str], Path]
) -> None:
    wav = synthesise("The child almost hurt the small dog, and then we went home for dinner.")
    assert await finals(engine, wav, TERMS) == await finals(engine, wav)

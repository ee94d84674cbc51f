"""Audio limited by frames too, not only by seconds (issue #29): empty and tiny frames cost a frame's work each
(a bus message, a recogniser call) while the audio budget counted them as nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from captions.gateway.frames import MAX_SEQ_JUMP
from tests.support.abuse import AbuseTarget
from tests.support.deployment import RECORDING, SPEED, assert_one_clean_transcript
from tests.support.harness import pcm_frames, stream
from tests.support.speech import SpeechCorpus

Address = Callable[[], str]
TWENTY_MS = b"\0\0" * 320


async def test_empty_frames_are_refused_and_one_short_frame_ends_a_stretch_of_audio(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("audio", {"seq": 0, "pcm": b""})
    assert (await speaker.error("frame_too_short"))["message"]
    await speaker.emit("audio", {"seq": 0, "pcm": b"\0\0" * 100})  # a short frame never starts a session
    await speaker.wait_for(lambda: sum(e["code"] == "frame_too_short" for e in speaker.errors) == 2)
    assert speaker.session == "idle", "no session, no transcription slot"
    await speaker.emit("audio", {"seq": 1, "pcm": TWENTY_MS})
    await speaker.emit("audio", {"seq": 2, "pcm": b"\0\0" * 100})  # the last frame of a stretch may be short
    await speaker.emit("audio", {"seq": 3, "pcm": b"\0\0" * 100})  # ... but only the last one
    await speaker.wait_for(lambda: sum(e["code"] == "frame_too_short" for e in speaker.errors) == 3)
    await speaker.emit("pause")
    await speaker.wait_for(lambda: speaker.session == "paused")
    # A new stretch: its last frame may be short.
    await speaker.emit("audio", {"seq": 4, "pcm": TWENTY_MS})
    await speaker.emit("audio", {"seq": 5, "pcm": b"\0\0" * 100})
    await speaker.wait_for(lambda: speaker.session == "live")
    await speaker.emit("pause")
    await speaker.wait_for(lambda: speaker.session == "paused" and speaker.statuses[-1]["last_seq"] == 5)
    assert sum(e["code"] == "frame_too_short" for e in speaker.errors) == 3
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.disconnect()


async def test_a_tiny_frame_flood_is_refused_and_disconnected_while_another_talk_goes_on(
    target: AbuseTarget, address: Address, speech: SpeechCorpus
) -> None:
    talk_room, flooded = await target.create_room(address()), await target.create_room(address())
    speaker = await target.presenter(talk_room, address()).connect()
    audience = await target.viewer(talk_room, address()).connect()
    talk = asyncio.create_task(stream(speaker, pcm_frames(speech.path(RECORDING)), speed=SPEED))
    flooder = await target.presenter(flooded, address()).connect()
    seq = 0
    while flooder.sio.connected and seq < 5_000:
        await flooder.emit("audio", {"seq": seq, "pcm": b"\0\0"})
        seq += 1
    await flooder.wait_for(lambda: not flooder.sio.connected, within_s=15)
    assert {"frame_too_short", "too_many_refusals"} <= {e["code"] for e in flooder.errors}
    # Every tiny frame was refused at the gateway: none started a session or took a transcription slot.
    onlooker = await target.viewer(flooded, address()).connect()
    await onlooker.wait_for(lambda: bool(onlooker.statuses))
    assert (onlooker.statuses[0]["session"], onlooker.statuses[0]["last_seq"]) == ("idle", -1), (
        onlooker.statuses
    )
    await onlooker.disconnect()
    await talk
    await speaker.emit("stop")
    await audience.wait_for(audience.ended, within_s=60)
    assert_one_clean_transcript(audience.finals, speech)
    for client in (speaker, audience):
        await client.disconnect()


async def test_frame_numbers_are_bounded_and_a_far_jump_is_refused(
    target: AbuseTarget, address: Address
) -> None:
    """A frame numbered far ahead would make every later frame look resent: the talk would go on unheard."""
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("audio", {"seq": 0, "pcm": TWENTY_MS * 5})
    await speaker.wait_for(lambda: speaker.session == "live")
    await speaker.emit("audio", {"seq": 2**53, "pcm": TWENTY_MS * 5})
    assert "seq" in (await speaker.error("bad_payload"))["message"]
    await speaker.emit("audio", {"seq": 1 + MAX_SEQ_JUMP + 1, "pcm": TWENTY_MS * 5})
    await speaker.error("seq_jump")
    await speaker.emit("audio", {"seq": 1, "pcm": TWENTY_MS * 5})
    await speaker.emit("pause")
    await speaker.wait_for(lambda: speaker.session == "paused")
    assert speaker.statuses[-1]["last_seq"] == 1, "the next frame was still heard"
    await speaker.emit("stop")
    await speaker.wait_for(speaker.ended)
    await speaker.disconnect()

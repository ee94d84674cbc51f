"""Statuses travel the bus while a session's end is told directly: a late status must not reopen it."""

from captions.gateway.live import LiveRoom
from captions.gateway.statuses import RoomStatuses
from captions.protocol import Status
from captions.roomstate.base import LiveSession


def _status(session_id: str, state: str) -> Status:
    return Status.model_validate(
        {"room": "room-1", "session": state, "session_id": session_id, "presenter_connected": True,
         "viewers": 3, "last_seq": 41, "resume_seq": 42}
    )  # fmt: skip


def test_a_status_computed_before_the_end_arrives_as_ended() -> None:
    live = LiveRoom("room-1", "en", session=LiveSession("s1", "ended"))
    late = RoomStatuses.never_reopened(live, _status("s1", "stopping"))
    assert (late.session, late.resume_seq, late.viewers) == ("ended", 0, 3)


def test_statuses_of_open_or_newer_sessions_pass_unchanged() -> None:
    ended = LiveRoom("room-1", "en", session=LiveSession("s1", "ended"))
    assert RoomStatuses.never_reopened(ended, _status("s2", "live")).session == "live"
    stopping = LiveRoom("room-1", "en", session=LiveSession("s1", "stopping"))
    assert RoomStatuses.never_reopened(stopping, _status("s1", "stopping")).session == "stopping"

from __future__ import annotations

import threading

import pytest

from captions.asr.scheduler import DecodeScheduler


def occupy(scheduler: DecodeScheduler) -> threading.Event:
    """The one thread busy until the returned gate opens (and known to be busy: nothing else is taken)."""
    started, gate = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        gate.wait()

    scheduler.submit(hold)
    assert started.wait(5)
    return gate


def test_urgent_work_goes_first_and_the_rest_in_order() -> None:
    scheduler = DecodeScheduler(workers=1)
    gate = occupy(scheduler)
    done: list[str] = []
    futures = [
        scheduler.submit(done.append, "partial a"),
        scheduler.submit(done.append, "partial b"),
        scheduler.submit(done.append, "endpoint c", urgent=True),
        scheduler.submit(done.append, "partial d"),
    ]
    assert scheduler.backlog == 4
    gate.set()
    for future in futures:
        future.result(timeout=5)
    assert done == ["endpoint c", "partial a", "partial b", "partial d"]
    assert scheduler.backlog == 0
    scheduler.shutdown()


def test_work_given_up_on_is_skipped_and_errors_reach_the_caller() -> None:
    scheduler = DecodeScheduler(workers=1)
    gate = occupy(scheduler)
    done: list[str] = []
    abandoned = scheduler.submit(done.append, "abandoned")
    assert abandoned.cancel()
    failing = scheduler.submit(int, "not a number")
    gate.set()
    with pytest.raises(ValueError, match="not a number"):
        failing.result(timeout=5)
    assert done == []
    scheduler.shutdown()
    with pytest.raises(RuntimeError):
        scheduler.submit(done.append, "too late")

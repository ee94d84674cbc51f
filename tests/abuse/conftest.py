from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.abuse import AbuseTarget, serve_target

ADMISSION_WAIT_S = 1.0
JOIN_WITHIN_S = 2.0
READS_RATE, READS_BURST = 20, 100
PROCESS_DOWNLOADS_RATE, PROCESS_DOWNLOADS_BURST = 5, 20
LIMITS = {
    "CAPTIONS_MAX_CONNECTIONS_PER_ADDRESS": "5",
    "CAPTIONS_CONNECT_RATE": "5",
    "CAPTIONS_CONNECT_BURST": "20",
    "CAPTIONS_CLIENT_QUEUE_MAX": "100",
    "CAPTIONS_ROOMS_PER_HOUR": "60",
    "CAPTIONS_ROOMS_BURST": "5",
    "CAPTIONS_EVENT_RATE": "20",
    "CAPTIONS_EVENT_BURST": "40",
    "CAPTIONS_MAX_BODY_BYTES": "1000000",
    "CAPTIONS_JOIN_WITHIN_S": str(JOIN_WITHIN_S),
    "CAPTIONS_READS_RATE": str(READS_RATE),
    "CAPTIONS_READS_BURST": str(READS_BURST),
    # Refusals are counted here, many in a row from one client: answered at once (the delay has its own test).
    "CAPTIONS_REFUSAL_DELAY_S": "0",
    "CAPTIONS_PROCESS_DOWNLOADS_RATE": str(PROCESS_DOWNLOADS_RATE),
    "CAPTIONS_PROCESS_DOWNLOADS_BURST": str(PROCESS_DOWNLOADS_BURST),
    # The long-polling transport is attacked too, as a deployment that allows it would be.
    "CAPTIONS_ALLOW_POLLING": "true",
}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbuseTarget]:
    """One real ``captions serve`` for the whole suite, behind a (simulated) trusted proxy: each test's
    clients come from their own addresses, so one test's limits never touch another's."""
    yield from _serve(tmp_path_factory.mktemp("abuse"), LIMITS)


@pytest.fixture(scope="module")
def busy_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbuseTarget]:
    """A server whose rooms may send far faster: enough traffic to fill a reader's buffers in seconds."""
    yield from _serve(
        tmp_path_factory.mktemp("busy"),
        {**LIMITS, "CAPTIONS_EVENT_RATE": "400", "CAPTIONS_EVENT_BURST": "400"},
    )


def _serve(folder: Path, limits: dict[str, str]) -> Iterator[AbuseTarget]:
    yield from serve_target(folder, {"CAPTIONS_STATUS_INTERVAL_S": "0.2", **limits})


@pytest.fixture(scope="module")
def addresses() -> Iterator[str]:
    return (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def address(addresses: Iterator[str]) -> Callable[[], str]:
    """A fresh client address for each call."""
    return lambda: next(addresses)

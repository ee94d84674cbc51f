from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from captions.asr.engine import Engine
from captions.settings import Settings
from tests.support.processes import RedisCluster, RedisServer, processes_in
from tests.support.redis import redis_settings_for
from tests.support.speech import SHIPPED_AUDIO_DIR, SpeechCorpus, find_corpus

# Where the tests find recordings: test infrastructure, not a setting of the product.
KEPT_VARIABLES = {"CAPTIONS_TEST_AUDIO"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that ran service processes shows the end of each one's log: what a process saw is most of
    what explains a failure that happens once in many runs."""
    report = yield
    if report.failed:
        for process in processes_in(getattr(item, "funcargs", {}).values()):
            report.sections.append((f"log of {process.name}", process.log_tail()))
    return report


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's shell: every setting is the default unless a test sets it."""
    for name in list(os.environ):
        if (name.startswith("CAPTIONS_") and name not in KEPT_VARIABLES) or name in (
            "REDIS_URL",
            "MONGODB_URL",
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def speech() -> SpeechCorpus:
    """The one way tests reach real recordings; skips with the reason where they are not on this machine."""
    corpus = find_corpus()
    if corpus is None:
        pytest.skip(
            f"real speech recordings not found (looked in $CAPTIONS_TEST_AUDIO or {SHIPPED_AUDIO_DIR})"
        )
    return corpus


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """One engine (one loaded model) shared by every test, as in the server."""
    engine = Engine(Settings())
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def synthesise(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Speak a sentence with espeak-ng into a 16 kHz mono WAV."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (make test installs it with apt-get)")
    folder = tmp_path_factory.mktemp("espeak")

    def speak(text: str) -> Path:
        out = folder / f"{abs(hash(text))}.wav"
        if not out.exists():
            subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)
        return out

    return speak


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of the test's own, on a free port; stopped (and its data dropped) after the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt-get)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def _needs_redis() -> None:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server is not installed (make test installs it with apt-get)")


@pytest.fixture(scope="session")
def shared_redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    _needs_redis()
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_cluster(shared_redis_cluster: RedisCluster) -> RedisCluster:
    """A real Redis Cluster (3 masters, 3 replicas), shared by the tests that do not break it: empty for each."""
    shared_redis_cluster.flush()
    return shared_redis_cluster


@pytest.fixture(params=["redis", "cluster"])
def redis_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings on a real single Redis, then on a real Redis Cluster."""
    return redis_settings_for(request, request.param)

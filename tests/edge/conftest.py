from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from captions.settings import WEB_BUILD
from tests.support.edge import Edge


def needs_the_edge_programs() -> None:
    for program in ("redis-server", "openssl"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (make test installs it with apt-get)")
    if shutil.which("nginx") is None and shutil.which("/usr/sbin/nginx") is None:
        pytest.skip("nginx is not installed (make test installs it with apt-get)")
    if not (WEB_BUILD / "index.html").exists():
        pytest.skip("the web app is not built (make test builds it)")


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    needs_the_edge_programs()
    running = Edge(tmp_path_factory.mktemp("edge"))
    try:
        yield running.start()
    finally:
        running.stop()

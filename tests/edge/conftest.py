from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.edge import Edge, needs_the_edge_programs


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    needs_the_edge_programs()
    running = Edge(tmp_path_factory.mktemp("edge"))
    try:
        yield running.start()
    finally:
        running.stop()

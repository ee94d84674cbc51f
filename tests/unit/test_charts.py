"""make bench's charts: SVG a browser can show, drawn from whatever results exist."""

from __future__ import annotations

import json
import xml.dom.minidom
from pathlib import Path

from tests.bench.charts import draw


def test_charts_are_drawn_from_the_results_that_exist(tmp_path: Path) -> None:
    results, images = tmp_path / "results", tmp_path / "images"
    results.mkdir()
    (results / "server.json").write_text(json.dumps({"fan_out": [
        {"viewers": 1, "p50_s": 0.002, "p99_s": 0.003}, {"viewers": 1000, "p50_s": 0.05, "p99_s": 0.257},
    ]}))  # fmt: skip
    (results / "engine.json").write_text(json.dumps({"files": [
        {"file": "jfk.wav", "final_p50": 0.6, "final_p95": 1.1}, {"file": "a<b>.wav", "final_p50": 0.4, "final_p95": 0.9},
    ]}))  # fmt: skip
    written = draw(results, images)
    assert sorted(p.name for p in written) == ["bench-fanout.svg", "bench-latency.svg"]
    for path in written:
        root = xml.dom.minidom.parse(str(path)).documentElement  # well-formed: names are escaped
        assert root is not None
        assert root.tagName == "svg"
    assert "a&lt;b&gt;" in (images / "bench-latency.svg").read_text()
    assert (images / "bench-fanout.svg").read_text().count("<circle") == 4

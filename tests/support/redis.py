"""Settings on a real Redis of the test's own, single or a cluster, for fixtures that choose between them."""

from __future__ import annotations

from typing import Literal

import pytest

from captions.settings import Settings

RedisKind = Literal["redis", "cluster"]


def redis_settings_for(request: pytest.FixtureRequest, kind: RedisKind) -> Settings:
    if kind == "redis":
        return Settings(redis_url=request.getfixturevalue("redis_server").url)
    return Settings(redis_url=request.getfixturevalue("redis_cluster").url, redis_cluster=True)

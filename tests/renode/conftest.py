"""Tests of the Renode engine: the ones marked `renode` need the renode executable."""

from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("renode") is not None:
        return
    skip = pytest.mark.skip(reason="Renode not installed")
    for item in items:
        if item.get_closest_marker("renode") is not None:
            item.add_marker(skip)

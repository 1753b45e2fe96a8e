"""The start-up checks of unicorn's behaviour hold on the pinned unicorn, each on its own
(ensure() runs them all once per process, so a failing one would otherwise stop every
engine test with the same message)."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from pybench.engine.builtin import selftest
from pybench.engine.builtin.machine import EMU_COUNTER_OFFSETS


@pytest.mark.parametrize("check", selftest.CHECKS, ids=lambda c: c.__name__)
def test_each_unicorn_behaviour_the_engine_relies_on(check) -> None:  # type: ignore[no-untyped-def]
    check()


def test_the_installed_unicorn_is_one_the_engine_knows() -> None:
    assert version("unicorn") in EMU_COUNTER_OFFSETS

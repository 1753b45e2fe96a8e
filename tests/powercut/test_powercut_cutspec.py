from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybench.engine.base import CutMode, PowerCut
from pybench.powercut.cutspec import format_path, parse_cut, parse_path

cuts = st.builds(
    lambda i, m, p, s: PowerCut(i, m, p, s) if m is CutMode.TORN else PowerCut(i, m),
    st.integers(0, 10**6), st.sampled_from([m for m in CutMode if not m.is_fault]),
    st.sampled_from([0.0, 0.125, 0.5, 0.75, 1.0]), st.integers(0, 2**31))


# A loaded machine (CI shares its 2 cores) makes input generation look slow.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(cuts, min_size=1, max_size=4))
def test_path_text_round_trips(path: list[PowerCut]) -> None:
    assert parse_path(format_path(tuple(path))) == tuple(path)


def test_defaults_are_before_and_half_torn() -> None:
    assert parse_cut("12") == PowerCut(12, CutMode.BEFORE)
    assert parse_cut("12:torn") == PowerCut(12, CutMode.TORN, 0.5, 0)
    assert parse_path("3:after,0x10") == (PowerCut(3, CutMode.AFTER), PowerCut(16))


@pytest.mark.parametrize("text, words", [
    ("", "empty level"), ("x", "not an integer"), ("1:sideways", "not one of"),
    ("1:torn:2", "between 0 and 1"), ("1:before:0.5", "only apply to torn"),
    ("1:torn:a", "must be a number"), ("-1", "0 or more"), ("1,,2", "empty level"),
])
def test_bad_cuts_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_path(text)

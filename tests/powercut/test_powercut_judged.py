"""judged.py: states found again by the sectors a run depended on (pure)."""

from __future__ import annotations

from pybench.powercut.judged import JudgedStates

SECTORS = [(0, 4), (4, 4), (8, 8)]     # three small "sectors" of a 16-byte flash


def flash(a: bytes, b: bytes, c: bytes) -> bytes:
    return a + b + c


def test_a_state_agreeing_on_the_depended_sectors_is_found() -> None:
    table: JudgedStates[str] = JudgedStates(SECTORS)
    first = flash(b"boot", b"jrnA", b"staged01")
    name = table.add(table.digests(first), frozenset({0, 1}), "", False, "verdict-1")
    # Sector 2 differs (never read by the judged run): the same run.
    other = flash(b"boot", b"jrnA", b"halfwritten!"[:8])
    assert table.find(table.digests(other), "", False) == (name, "verdict-1")
    # Sector 1 differs: not the same run.
    assert table.find(table.digests(flash(b"boot", b"jrnB", b"staged01")), "", False) is None
    # Same flash, other cuts to come or another commit state: not the same question.
    assert table.find(table.digests(first), "5:before", False) is None
    assert table.find(table.digests(first), "", True) is None


def test_names_do_not_depend_on_which_state_was_judged_first() -> None:
    a = flash(b"boot", b"jrnA", b"AAAAAAAA")
    b = flash(b"boot", b"jrnA", b"BBBBBBBB")
    one: JudgedStates[str] = JudgedStates(SECTORS)
    two: JudgedStates[str] = JudgedStates(SECTORS)
    name_a = one.add(one.digests(a), frozenset({0, 1}), "", False, "x")
    name_b = two.add(two.digests(b), frozenset({0, 1}), "", False, "x")
    assert name_a == name_b
    assert one.find(one.digests(b), "", False) == (name_a, "x")


def test_no_dependence_known_means_the_whole_flash() -> None:
    table: JudgedStates[str] = JudgedStates(SECTORS)
    first = flash(b"boot", b"jrnA", b"AAAAAAAA")
    table.add(table.digests(first), None, "", True, "y")
    assert table.find(table.digests(first), "", True) is not None
    assert table.find(table.digests(flash(b"boot", b"jrnA", b"AAAAAAAB")), "", True) is None
    assert table.add(table.digests(first), None, "", True, "y").endswith("+c")
    assert len(table) == 1


def test_a_state_only_named_is_not_found() -> None:
    """Failures are named (for the joined counts) but never reused."""
    table: JudgedStates[str] = JudgedStates(SECTORS)
    f = flash(b"boot", b"jrnA", b"AAAAAAAA")
    named = table.add(table.digests(f), frozenset({1}), "", False, None)
    assert table.find(table.digests(f), "", False) is None and len(table) == 0
    assert named == table.add(table.digests(f), frozenset({1}), "", False, "kept")


def test_digests_taken_from_the_image_before_only_where_it_is_equal() -> None:
    table: JudgedStates[str] = JudgedStates(SECTORS)
    images = [flash(b"boot", b"jrnA", b"AAAAAAAA"), flash(b"boot", b"jrnB", b"AAAAAAAA"),
              flash(b"boot", b"jrnB", b"AAAAAAAC"), flash(b"bOot", b"jrnA", b"AAAAAAAA")]
    for image in images:
        got = table.digests(image).of([0, 1, 2])
        assert got == JudgedStates(SECTORS).digests(image).of([0, 1, 2])

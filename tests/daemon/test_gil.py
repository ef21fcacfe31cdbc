"""The switch interval while a reload's thread computes beside the loop (monitor.daemon.gil)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from monitor.daemon.gil import LOOP_FIRST, loop_first


@pytest.fixture(autouse=True)
def interval() -> Iterator[float]:
    was = sys.getswitchinterval()
    yield was
    sys.setswitchinterval(was)


def test_shorter_inside_the_block_and_as_before_after_it_even_on_error() -> None:
    sys.setswitchinterval(0.005)
    with pytest.raises(RuntimeError), loop_first():
        assert sys.getswitchinterval() == pytest.approx(LOOP_FIRST, rel=0.01)
        raise RuntimeError("the reload failed")
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.01)


def test_never_longer_than_it_was() -> None:
    sys.setswitchinterval(0.0002)
    with loop_first():
        assert sys.getswitchinterval() == pytest.approx(0.0002, rel=0.01)
    assert sys.getswitchinterval() == pytest.approx(0.0002, rel=0.01)

"""Shared fixtures: a private Xvfb per session (and fresh ones on demand)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from xrig import Display, display, require


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[Display]:
    """A session-wide 1280×800 Xvfb; tests must leave it as they found it (kill their apps)."""
    require("Xvfb", "xdotool")
    with display() as d:
        yield d


@pytest.fixture
def new_display() -> Iterator[Callable[..., Display]]:
    """Factory for fresh private displays, torn down after the test."""
    with ExitStack() as stack:
        def make(width: int = 1280, height: int = 800, *, wm: bool = False) -> Display:
            return stack.enter_context(display(width, height, wm=wm))

        yield make


@pytest.fixture
def app_display(xdisplay: Display) -> Iterator[Display]:
    """The session display, with every app the test launched killed afterwards."""
    yield xdisplay
    xdisplay.kill_apps()

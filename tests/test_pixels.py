"""The shared pixel measure: every differing pixel counts, masked regions never do."""

from __future__ import annotations

import numpy as np
import pytest

from wf.bundle.events import MouseDown, MouseMove, StartState, Volatile, Window, WindowState
from wf.bundle.pixels import covered, diff, mask_of, volatile_regions


def blank(w: int = 64, h: int = 48) -> np.ndarray:
    return np.full((h, w, 3), 200, dtype=np.uint8)


def test_identical_frames_do_not_differ() -> None:
    d = diff(blank(), blank())
    assert d.same and d.bbox is None and d.similarity == 1.0 and d.compared == 64 * 48


def test_a_one_pixel_vertical_line_counts_every_pixel() -> None:
    b = blank()
    b[10:30, 7] = 0  # 1 px wide, 20 px tall: a run-length rule would miss it
    d = diff(blank(), b)
    assert d.differing == 20 and d.bbox == (7, 10, 1, 20)


def test_a_single_pixel_counts() -> None:
    b = blank()
    b[5, 5] = (200, 200, 0)
    assert diff(blank(), b).differing == 1


def test_noise_below_the_tolerance_is_not_a_difference() -> None:
    b = blank()
    b[:, :] = 210
    d = diff(blank(), b)
    assert d.differing == 0 and d.similarity < 1.0


def test_masked_regions_never_count() -> None:
    b = blank()
    b[0:10, 0:10] = 0
    b[40, 60] = 0
    m = mask_of(64, 48, [(0, 0, 10, 10)])
    d = diff(blank(), b, mask=m)
    assert d.differing == 1 and d.bbox == (60, 40, 1, 1)
    assert d.compared == 64 * 48 - 100


def test_mask_regions_are_in_screen_coordinates() -> None:
    m = mask_of(20, 20, [(105, 205, 5, 5)], origin=(100, 200))
    assert m is not None and m.sum() == 25 and m[5:10, 5:10].all()
    assert mask_of(20, 20, [(0, 0, 5, 5)], origin=(100, 200)) is None  # outside the frame


def test_frames_of_other_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        diff(blank(64, 48), blank(48, 64))


def test_volatile_regions_and_coverage() -> None:
    evs = [MouseMove(t=0.0, x=1, y=1), Volatile(t=1.0, x=0, y=0, width=10, height=10),
           Volatile(t=2.0, x=0, y=0, width=10, height=10), Volatile(t=3.0, x=10, y=0, width=5, height=10)]
    regions = volatile_regions(evs)
    assert regions == [(0, 0, 10, 10), (10, 0, 5, 10)]
    assert covered((2, 2, 12, 5), regions)
    assert not covered((2, 2, 14, 5), regions)


def test_a_volatile_region_in_a_background_window_grows_to_the_window() -> None:
    """A clock nobody touched is left out whole; the app the task clicked in keeps the learned box only."""
    clock = WindowState(title="xclock", wm_class="XClock", id=7, x=600, y=0, width=120, height=120)
    app = WindowState(title="app", wm_class="App", id=9, x=0, y=0, width=400, height=300)
    editor = WindowState(title="editor", wm_class="Ed", id=11, x=0, y=400, width=400, height=200)
    start = StartState(windows=[app, clock, editor], focus=app)
    evs = [Volatile(t=1.0, x=608, y=32, width=88, height=56),  # a few ticks of the second hand
           Volatile(t=1.0, x=16, y=16, width=8, height=16),  # a caret in the app
           MouseDown(t=2.0, x=100, y=40, button="left"),
           Window(t=3.0, title="editor", wm_class="Ed", id=11, x=0, y=400, width=400, height=200),
           Volatile(t=4.0, x=8, y=408, width=8, height=16),  # a caret in the editor, focused later
           Volatile(t=4.0, x=380, y=280, width=40, height=40)]  # across two windows: in none
    assert volatile_regions(evs, start) == [(600, 0, 120, 120), (16, 16, 8, 16), (8, 408, 8, 16),
                                            (380, 280, 40, 40)]
    assert volatile_regions(evs) == [(608, 32, 88, 56), (16, 16, 8, 16), (8, 408, 8, 16), (380, 280, 40, 40)]
    clicked = [*evs, MouseDown(t=5.0, x=650, y=50, button="left")]
    assert volatile_regions(clicked, start)[0] == (608, 32, 88, 56)


def test_diff_equals_the_plain_int16_definition_on_random_frames() -> None:
    """The uint8 fast path of diff() is the definition: max over channels of |a − b| (int16), masked."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        b = a.copy()
        n = int(rng.integers(0, h * w))
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        b[ys, xs] = rng.integers(0, 256, (n, 3), dtype=np.uint8)
        mask = rng.random((h, w)) < 0.2 if rng.random() < 0.5 else None
        d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
        if mask is not None:
            d[mask] = 0
        hot = d > 24
        got = diff(a, b, mask=mask)
        assert got.differing == int(hot.sum())
        compared = h * w - (int(mask.sum()) if mask is not None else 0)
        if compared:
            assert got.similarity == pytest.approx(1 - d.sum() / (compared * 255.0))
        if hot.any():
            ys_, xs_ = np.nonzero(hot)
            assert got.bbox == (int(xs_.min()), int(ys_.min()), int(xs_.max() - xs_.min() + 1),
                                int(ys_.max() - ys_.min() + 1))
        else:
            assert got.bbox is None

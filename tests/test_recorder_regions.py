"""The recorder's pure screen parts, without a display: damage-box merging, tiles, the volatile rule, the post rule."""

from __future__ import annotations

import numpy as np
import pytest

from wf.recorder.frames import Frame, settled_frame
from wf.recorder.regions import merge_boxes, overlaps, union
from wf.recorder.tiles import TILE, TileImage
from wf.recorder.volatile import QUIET, VolatileTracker, snap, unprompted

RNG = np.random.default_rng(16)


def covers(boxes: list[tuple[int, int, int, int]], b: tuple[int, int, int, int]) -> bool:
    return any(o[0] <= b[0] and o[1] <= b[1] and o[0] + o[2] >= b[0] + b[2] and o[1] + o[3] >= b[1] + b[3]
               for o in boxes)


# -- merging the boxes DAMAGE reports -----------------------------------------------------------------

def test_overlapping_and_nearby_boxes_merge_far_ones_stay_apart() -> None:
    clock = [(1500, 700, 10, 10), (1505, 705, 20, 20), (1530, 700, 5, 5)]  # touching, within the gap
    caret = [(10, 10, 2, 16)]
    out = merge_boxes(clock + caret, gap=16)
    assert out == [(10, 10, 2, 16), (1500, 700, 35, 25)]


def test_merging_is_transitive_through_a_box_that_joins_two_groups() -> None:
    out = merge_boxes([(0, 0, 10, 10), (100, 0, 10, 10), (5, 0, 100, 4)], gap=0)
    assert out == [(0, 0, 110, 10)]


def test_many_boxes_are_merged_down_to_the_limit_and_still_cover_every_input() -> None:
    boxes = [(int(x), int(y), 4, 4) for x, y in RNG.integers(0, 1900, size=(300, 2))]
    out = merge_boxes(boxes, gap=0, limit=8)
    assert len(out) <= 8
    assert all(covers(out, b) for b in boxes)
    assert all(not overlaps(a, b) for i, a in enumerate(out) for b in out[i + 1:])


def test_empty_boxes_are_ignored() -> None:
    assert merge_boxes([(5, 5, 0, 10), (1, 1, 3, 0)]) == []


# -- tiles: frames share what did not change -------------------------------------------------------------

def test_tiles_share_unchanged_pixels_and_report_exactly_what_a_patch_changed() -> None:
    h, w = 200, 300  # not a multiple of the tile size: edge tiles are smaller
    px = RNG.integers(0, 2**32, size=(h, w), dtype=np.uint32)
    img, boxes, n = TileImage.from_pixels(px)
    assert boxes == [] and n == 0 and np.array_equal(img.to_pixels(), px)
    patch = px[150:170, 250:280].copy()
    patch[5:7, 3:9] ^= 0xFF  # 12 pixels really change; the rest of the patch is a redraw of the same pixels
    new, boxes, n = img.patched([((250, 150, 30, 20), patch)])
    want = px.copy()
    want[150:170, 250:280] = patch
    assert np.array_equal(new.to_pixels(), want)
    assert boxes == [(253, 155, 6, 2)] and n == 12
    copied = [i for i, t in enumerate(new.tiles) if t is not img.tiles[i]]
    assert copied == [13, 14]  # the change straddles two tiles (x 192–255 and 256–299 of row 128–191)
    assert new.new_bytes == sum(new.tiles[i].nbytes for i in copied) and new.digest != img.digest
    rgb = new.to_rgb()
    assert rgb.shape == (h, w, 3) and np.array_equal(rgb[..., 0], (want >> 16 & 0xFF).astype(np.uint8))


def test_a_redraw_with_the_same_pixels_returns_the_same_image() -> None:
    px = RNG.integers(0, 2**32, size=(TILE * 2, TILE * 2), dtype=np.uint32)
    img, _, _ = TileImage.from_pixels(px)
    same, boxes, n = img.patched([((10, 10, 100, 100), px[10:110, 10:110].copy())])
    assert same is img and boxes == [] and n == 0


def test_a_full_grab_shares_tiles_with_the_previous_image_and_equal_pixels_give_equal_identity() -> None:
    px = RNG.integers(0, 2**32, size=(130, 260), dtype=np.uint32)
    a, _, _ = TileImage.from_pixels(px)
    px2 = px.copy()
    px2[0, 0] += 1
    b, boxes, n = TileImage.from_pixels(px2, a)
    assert boxes == [(0, 0, 1, 1)] and n == 1
    assert sum(t is a.tiles[i] for i, t in enumerate(b.tiles)) == len(a.tiles) - 1
    c, _, _ = TileImage.from_pixels(px.copy())
    assert c.digest == a.digest and b.digest != a.digest


def test_painting_masks_covers_the_rectangle() -> None:
    px = RNG.integers(0, 2**32, size=(100, 100), dtype=np.uint32)
    img, _, _ = TileImage.from_pixels(px)
    masked = img.painted([(90, 90, 50, 50)], 0xFF404040)
    out = masked.to_pixels()
    assert (out[90:, 90:] == 0xFF404040).all() and np.array_equal(out[:90], px[:90])


# -- the volatile rule -------------------------------------------------------------------------------------

def test_a_change_counts_as_unprompted_only_after_a_quiet_second_and_with_no_action_pending() -> None:
    assert unprompted(5.0, None, post_pending=False)
    assert unprompted(5.0, 5.0 - QUIET - 0.01, post_pending=False)
    assert not unprompted(5.0, 4.5, post_pending=False)  # input half a second before
    assert not unprompted(5.0, 1.0, post_pending=True)  # an action still waits for its post screen


def test_a_region_changing_twice_on_its_own_becomes_volatile_a_one_off_change_does_not() -> None:
    tr = VolatileTracker()
    assert tr.observe(3.0, [(400, 300, 200, 100)]) == []  # a dialog appearing late, once
    assert tr.observe(1.0 + 1, [(1500, 700, 40, 40)]) == []  # the clock's first tick
    out = tr.observe(3.0, [(1510, 705, 40, 40)])  # its second tick, overlapping the first
    assert [(v.x, v.y, v.width, v.height, v.changes) for v in out] == [(1496, 696, 56, 56, 2)]
    assert tr.observe(4.0, [(1510, 705, 40, 40)]) == []  # nothing new: not written again
    assert tr.flush(9.0) == []
    regions = dict(tr.regions())
    assert regions[snap((400, 300, 200, 100))] == 1  # the dialog's region stays below the threshold


def test_a_growing_region_is_rewritten_at_most_every_ten_seconds_and_at_the_end() -> None:
    tr = VolatileTracker()
    tr.observe(0.0, [(0, 0, 8, 8)])
    assert len(tr.observe(1.0, [(0, 0, 8, 8)])) == 1
    assert tr.observe(2.0, [(4, 0, 16, 8)]) == []  # grew, but was written a second ago
    grown = tr.observe(11.5, [(4, 0, 24, 8)])
    assert [(v.width, v.changes) for v in grown] == [(32, 4)]
    tr.observe(12.0, [(30, 0, 10, 8)])
    assert [(v.width, v.changes) for v in tr.flush(13.0)] == [(40, 5)]


def test_a_box_joining_two_regions_merges_them() -> None:
    tr = VolatileTracker()
    tr.observe(0.0, [(0, 0, 8, 8), (100, 0, 8, 8)])
    out = tr.observe(1.0, [(0, 0, 108, 8)])
    assert len(tr) == 1 and [(v.x, v.width, v.changes) for v in out] == [(0, 112, 2)]


def test_memory_stays_bounded_one_off_regions_are_forgotten_first() -> None:
    tr = VolatileTracker(max_regions=16)
    tr.observe(0.0, [(0, 0, 8, 8)])
    tr.observe(1.0, [(0, 0, 8, 8)])  # volatile
    for i in range(100):
        tr.observe(2.0 + i, [(100 + 20 * i, 500, 8, 8)])
    assert len(tr) == 16 and ((0, 0, 8, 8), 2) in tr.regions()


@pytest.mark.parametrize("box", [(3, 5, 1, 1), (8, 8, 8, 8), (0, 0, 17, 9)])
def test_snap_widens_to_the_grid(box: tuple[int, int, int, int]) -> None:
    s = snap(box)
    assert all(v % 8 == 0 for v in s) and union(s, box) == s


def test_a_region_is_covered_only_once_it_was_written_as_volatile_and_only_wholly() -> None:
    tr = VolatileTracker()
    clock = (1500, 700, 40, 40)
    tr.observe(1.0, [clock])
    assert not tr.covers([clock])  # seen once: not volatile yet, so its change may be an effect
    tr.observe(2.0, [clock])
    assert tr.covers([clock]) and tr.covers([(1504, 704, 8, 8)])
    assert not tr.covers([clock, (100, 100, 8, 8)])  # a change elsewhere too
    assert not tr.covers([])  # no boxes: nothing is known about the change


# -- the post-screen rule ----------------------------------------------------------------------------------

def _f(seq: int, captured: float, changed: float = 0.0, boxes: tuple[tuple[int, int, int, int], ...] = ()) -> Frame:
    return Frame(seq=seq, captured=captured, bgra=bytes([seq]) * 16, width=2, height=2, x=0, y=0, raw_hash=seq,
                 changed=changed, boxes=boxes)


def test_a_screen_that_has_not_changed_since_the_action_is_not_settled_a_slow_app_is_waited_for() -> None:
    quiet = [_f(1, 0.1), _f(2, 0.6), _f(3, 0.7), _f(4, 0.8)]  # the app has not drawn yet: quiet frames
    assert settled_frame(quiet, 0.5, 0.85, timeout=3.0) is None
    late = [*quiet, _f(5, 0.9, 0.004), _f(6, 1.0)]  # it draws (a small change), then the screen is still
    chosen = settled_frame(late, 0.5, 1.05, timeout=3.0)
    assert chosen is not None and chosen.seq == 6
    chosen = settled_frame(quiet, 0.5, 3.6, timeout=3.0)  # a dead click: the newest frame once timed out
    assert chosen is not None and chosen.seq == 4


def test_a_change_settles_on_the_first_stable_frame_after_it_and_a_volatile_change_is_no_effect() -> None:
    frames = [_f(1, 0.1), _f(2, 0.6, 0.3), _f(3, 0.7, 0.2), _f(4, 0.8), _f(5, 0.9)]
    chosen = settled_frame(frames, 0.5, 1.0, timeout=3.0)
    assert chosen is not None and chosen.seq == 4
    clock = (1500, 700, 40, 40)
    ticking = [_f(1, 0.1), _f(2, 0.6, 0.001, (clock,)), _f(3, 0.7), _f(4, 0.8)]
    chosen = settled_frame(ticking, 0.5, 0.85, timeout=3.0, counts=lambda f: f.boxes != (clock,))
    assert chosen is None  # the clock ticked: the click's own effect is still to come
    chosen = settled_frame(ticking, 0.5, 0.85, timeout=3.0)
    assert chosen is not None and chosen.seq == 3

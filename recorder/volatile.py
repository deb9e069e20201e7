"""Screen regions that change by themselves: a clock, a blinking caret, a spinner (`volatile` events).

Pure: no display. The writer's state machine (merge.py) hands every frame's changed boxes to
:meth:`VolatileTracker.observe`, saying whether the change was *unprompted*: no input event in the
preceding :data:`QUIET` seconds and no action still waiting for its post screen (an action's effect is not
volatile, however late it draws). A region is volatile once the same area — boxes that overlap — changed
unprompted at least :data:`MIN_CHANGES` times: a dialog that appears once, late, after a click stays out,
a clock ticking every second is in after its second tick. Overlapping regions merge, so a clock's hands
sweeping across its face end up as one box around the face. A region is written when it becomes volatile;
one that keeps growing is written again at most every :data:`REWRITE_EVERY` s, and once more at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wf.bundle.events import Volatile
from wf.recorder.regions import Box, contains, overlaps, union

QUIET = 1.0  # seconds without any input event before a change counts as unprompted
MIN_CHANGES = 2  # unprompted changes of the same region that make it volatile
MAX_REGIONS = 256  # regions tracked at once (the one-off ones are forgotten first): memory stays bounded
GRID = 8  # px: boxes are widened to this grid, so a clock hand's one-pixel moves do not grow its region
REWRITE_EVERY = 10.0  # s: a volatile region that keeps growing is written again at most this often


@dataclass
class _Region:
    box: Box
    changes: int
    last_t: float
    written: Box | None = None  # the box of the last `volatile` line written for it
    written_t: float = 0.0


def snap(b: Box, grid: int = GRID) -> Box:
    """``b`` widened outwards to the ``grid``."""
    x0, y0 = b[0] // grid * grid, b[1] // grid * grid
    x1, y1 = -(-(b[0] + b[2]) // grid) * grid, -(-(b[1] + b[3]) // grid) * grid
    return (x0, y0, x1 - x0, y1 - y0)


def unprompted(t: float, last_input_t: float | None, *, post_pending: bool, quiet: float = QUIET) -> bool:
    """The rule for one change at ``t``: nothing in the last ``quiet`` s of input, and no action's effect pending."""
    if post_pending:
        return False
    return last_input_t is None or t - last_input_t > quiet


class VolatileTracker:
    """Counts unprompted changes per region; says which regions to write as `volatile` events."""

    def __init__(self, *, min_changes: int = MIN_CHANGES, max_regions: int = MAX_REGIONS) -> None:
        self.min_changes = min_changes
        self.max_regions = max_regions
        self._regions: list[_Region] = []

    def __len__(self) -> int:
        return len(self._regions)

    def observe(self, t: float, boxes: Iterable[Box]) -> list[Volatile]:
        """One frame's unprompted changes at ``t``; returns the `volatile` lines to write (regions new or grown)."""
        touched: list[_Region] = []
        for b in map(snap, boxes):
            hits = [r for r in self._regions if overlaps(r.box, b)]
            if not hits:
                region = _Region(b, 0, t)
                self._regions.append(region)
            else:
                region = hits[0]
                for other in hits[1:]:  # the new box joins regions that were apart: one region now
                    region.box = union(region.box, other.box)
                    region.changes = max(region.changes, other.changes)
                    region.written = region.written or other.written
                    self._regions.remove(other)
                    if other in touched:
                        touched.remove(other)
                region.box = union(region.box, b)
            if region not in touched:
                touched.append(region)
        out: list[Volatile] = []
        for region in touched:
            region.changes += 1  # one frame counts once per region, however many of its boxes hit it
            region.last_t = t
            due = region.written is None or t - region.written_t >= REWRITE_EVERY
            if region.changes >= self.min_changes and region.written != region.box and due:
                out.append(self._write(region, t))
        self._bound()
        return out

    def flush(self, t: float) -> list[Volatile]:
        """At the end: the volatile regions that grew since they were last written."""
        return [self._write(r, t) for r in self._regions if r.changes >= self.min_changes and r.written != r.box]

    @staticmethod
    def _write(region: _Region, t: float) -> Volatile:
        region.written, region.written_t = region.box, t
        x, y, w, h = region.box
        return Volatile(t=t, x=x, y=y, width=w, height=h, changes=region.changes)

    def covers(self, boxes: Iterable[Box]) -> bool:
        """Whether every box lies inside a region already written as volatile (False for no boxes)."""
        written = [r.written for r in self._regions if r.written is not None]
        boxes = list(boxes)
        return bool(boxes) and all(any(contains(w, snap(b)) for w in written) for b in boxes)

    def regions(self) -> list[tuple[Box, int]]:
        return [(r.box, r.changes) for r in self._regions]

    def _bound(self) -> None:
        if len(self._regions) <= self.max_regions:
            return
        # Forget regions seen once first, the oldest first; volatile ones only if that is not enough.
        order = sorted(self._regions, key=lambda r: (r.changes >= self.min_changes, r.last_t))
        drop = {id(r) for r in order[:len(self._regions) - self.max_regions]}
        self._regions = [r for r in self._regions if id(r) not in drop]

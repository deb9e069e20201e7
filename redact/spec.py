"""What `wf redact` was asked to do, parsed and checked before anything is written."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from wf.bundle.errors import BadInput
from wf.bundle.windowrules import WindowRules
from wf.redact.presets import ScrubPattern, build_patterns

_RECT = re.compile(r"^\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:@\s*([^-\s]*)\s*-\s*([^\s]*)\s*)?$")
# Screens read at once by default: two worker processes keep two cores busy (wf.redact.workers); `--jobs` for more.
DEFAULT_JOBS = min(2, os.cpu_count() or 1)
_STEPS = re.compile(r"^\s*(?:(\d*)\s*:\s*(\d*)|(\d+))\s*$")


@dataclass(frozen=True, slots=True)
class RectMask:
    """A rectangle in virtual-screen pixels, filled in every screen captured between ``t1`` and ``t2``."""

    x: int
    y: int
    w: int
    h: int
    t1: float = 0.0
    t2: float = math.inf

    def applies(self, *times: float) -> bool:
        return any(self.t1 <= t <= self.t2 for t in times)

    def to_json(self) -> dict[str, object]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "t1": self.t1,
                "t2": None if math.isinf(self.t2) else self.t2}


def parse_rect(text: str) -> RectMask:
    """``X,Y,W,H`` or ``X,Y,W,H@T1-T2`` (seconds; either end may be left out: ``@5-`` or ``@-10``)."""
    m = _RECT.match(text)
    if not m:
        raise BadInput(f"--mask-rect {text!r} is not X,Y,W,H[@T1-T2]",
                       hint="e.g. --mask-rect 0,0,400,300 or --mask-rect 0,0,400,300@2.5-10")
    x, y, w, h = (int(g) for g in m.groups()[:4])
    if w <= 0 or h <= 0:
        raise BadInput(f"--mask-rect {text!r}: width and height must be positive")
    try:
        t1 = float(m.group(5)) if m.group(5) else 0.0
        t2 = float(m.group(6)) if m.group(6) else math.inf
    except ValueError:
        raise BadInput(f"--mask-rect {text!r}: times must be seconds, e.g. @2.5-10") from None
    if not (math.isfinite(t1) and t1 <= t2) or math.isnan(t2):
        raise BadInput(f"--mask-rect {text!r}: the time range is empty or not a number")
    return RectMask(x, y, w, h, t1, t2)


def parse_steps(text: str) -> tuple[int, int | None]:
    """``A:B`` → steps A … B-1 (B exclusive, as `wf replay --steps`; either side optional) or ``N``.

    Returns ``(first, end)`` with ``end`` exclusive, None for "to the last step".
    """
    m = _STEPS.match(text)
    if not m or (not m.group(1) and not m.group(2) and m.group(3) is None):  # ":" alone: refuse all
        raise BadInput(f"--drop-steps {text!r} is not A:B or N",
                       hint="0-based step numbers from `wf inspect --actions`; A:B drops A … B-1 (B exclusive)")
    if m.group(3) is not None:
        n = int(m.group(3))
        return n, n + 1
    a = int(m.group(1)) if m.group(1) else 0
    b = int(m.group(2)) if m.group(2) else None
    if b is not None and b <= a:
        raise BadInput(f"--drop-steps {text!r} is empty", hint="A:B drops A … B-1, so B must be larger than A")
    return a, b


@dataclass(frozen=True, slots=True)
class RedactSpec:
    """Everything one `wf redact` run does."""

    scrub: tuple[ScrubPattern, ...] = ()
    presets: tuple[str, ...] = ()
    user_scrubs: int = 0
    mask_windows: WindowRules = field(default_factory=WindowRules)
    rects: tuple[RectMask, ...] = ()
    drop_steps: tuple[tuple[int, int | None], ...] = ()
    ocr: bool = True  # read the screens' pixels for scrubbed text (--no-ocr: rectangles only)
    jobs: int = DEFAULT_JOBS  # frames read at once

    def is_empty(self) -> bool:
        return not (self.scrub or self.mask_windows or self.rects or self.drop_steps)


def build_spec(*, scrub: Sequence[str] = (), presets: Sequence[str] = (), mask_windows: Sequence[str] = (),
               rects: Sequence[str] = (), drop_steps: Sequence[str] = (), ocr: bool = True,
               jobs: int | None = None) -> RedactSpec:
    """Parse the command-line values; every problem is a ``BadInput`` before any file is touched."""
    if jobs is not None and jobs < 1:
        raise BadInput(f"--jobs {jobs}: must be at least 1", hint="the number of screens read at once")
    spec = RedactSpec(
        scrub=build_patterns(list(scrub), list(presets)),
        presets=tuple(dict.fromkeys(presets)),
        user_scrubs=len(scrub),
        # The recorder's --exclude-window matcher: case-insensitive, on title and WM class.
        mask_windows=WindowRules.parse(mask_windows, what="--mask-window"),
        rects=tuple(parse_rect(r) for r in rects),
        drop_steps=tuple(parse_steps(s) for s in drop_steps),
        ocr=ocr,
        jobs=DEFAULT_JOBS if jobs is None else jobs,
    )
    if spec.is_empty():
        raise BadInput("nothing to redact",
                       hint="give --scrub, --scrub-preset, --mask-window, --mask-rect or --drop-steps")
    return spec

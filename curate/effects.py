"""Per-step effect from the recording alone: did the action change the screen, where, how much — and is it dead.

An action's effect compares its ``pre_screen`` with its ``post_screen`` (the reducer's screens,
docs/actions.md "Screens") with the one pixel measure (:mod:`wf.bundle.pixels`): every pixel off by more
than the tolerance counts, except inside the bundle's volatile regions. No replay, no model. The rules,
and what they cannot see, are in docs/quality.md ("Per-step effect").

Stored screens are named by a hash of their pixels, so two equal paths are equal pictures: most
comparisons (a click that changed nothing, a key whose post frame is the next step's pre frame) cost no
decoding at all. The others decode each frame once while it is still in a small cache (consecutive steps
share frames: one step's post is usually the next one's pre).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from wf.bundle.actions import Action
from wf.bundle.errors import BundleError
from wf.bundle.pixels import RGB, PixelDiff, Region, as_rgb, diff, mask_of
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb

EffectStatus = Literal["changed", "unchanged", "unknown"]

# Inputs a person gives to make something happen: when the screen shows no trace of one, it is dead.
POINTER_INPUT = frozenset({"click", "drag", "scroll"})
KEY_INPUT = frozenset({"type", "key", "hotkey"})
DEADABLE = POINTER_INPUT | KEY_INPUT
# Hotkeys whose whole effect is off screen (the clipboard): unchanged pixels are what success looks like.
OFFSCREEN_HOTKEYS = frozenset({("ctrl", "c"), ("ctrl", "insert"), ("ctrl", "shift", "c")})
FRAME_CACHE = 4  # decoded frames kept: a step's pre, its post (= the next pre) and one revert candidate
PAIR_CACHE = 4096  # comparisons kept by (path, path): a screen that cycles (a toggle, a menu) is compared once


@dataclass(frozen=True, slots=True)
class ScreenGeom:
    """Where a stored frame sits on the virtual screen (from its ``screen`` event)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Effect:
    """What one action did to the screen. ``box`` is in virtual-screen pixels; ``why`` explains a null."""

    status: EffectStatus
    dead: bool | None  # None: the kind is never dead (move, wait, mark), or the effect is unknown
    pixels: int | None = None  # differing pixels outside the masked regions
    fraction: float | None = None  # of the compared pixels
    box: Region | None = None
    why: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"status": self.status, "dead": self.dead, "pixels": self.pixels, "fraction": self.fraction,
                "box": list(self.box) if self.box else None, "why": self.why}


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two screens compared: ``diff`` when both could be read, else ``why`` not."""

    diff: PixelDiff | None
    why: str | None = None
    origin: tuple[int, int] = (0, 0)


class ScreenComparer:
    """Compares stored screens of one bundle, volatile regions masked; decoded frames are cached."""

    def __init__(self, bundle: Bundle, screens: Mapping[str, ScreenGeom], volatile: Sequence[Region],
                 cache: int = FRAME_CACHE) -> None:
        self.bundle = bundle
        self.screens = screens
        self.volatile = list(volatile)
        self._frames: OrderedDict[str, RGB | str] = OrderedDict()  # path -> pixels, or why they are missing
        self._masks: dict[ScreenGeom, npt.NDArray[np.bool_] | None] = {}
        self._pairs: OrderedDict[tuple[str, str], Comparison] = OrderedDict()
        self._cache = max(cache, 2)
        self.decoded = 0  # frames decoded (the cost the cache saves)

    def compare(self, a: str | None, b: str | None) -> Comparison:
        """``a`` against ``b``; files are named by their pixels, so a pair's answer never changes."""
        if a is None or b is None:
            return self._compare(a, b)
        key = (a, b)
        got = self._pairs.get(key)
        if got is None:
            got = self._pairs[key] = self._compare(a, b)
            if len(self._pairs) > PAIR_CACHE:
                self._pairs.popitem(last=False)
        else:
            self._pairs.move_to_end(key)
        return got

    def _compare(self, a: str | None, b: str | None) -> Comparison:
        if a is None or b is None:
            return Comparison(None, f"no screen {'before' if a is None else 'after'} it was recorded")
        ga, gb = self.screens.get(a), self.screens.get(b)
        if ga is None or gb is None:
            return Comparison(None, "its screen has no screen event")
        if ga != gb:
            return Comparison(None, f"the frames differ in geometry ({ga.width}×{ga.height} at ({ga.x}, {ga.y}) "
                                    f"vs {gb.width}×{gb.height} at ({gb.x}, {gb.y}))")
        mask = self._mask(ga)
        if a == b:  # content-addressed: the same file is the same picture
            masked = int(mask.sum()) if mask is not None else 0
            return Comparison(PixelDiff(0, None, 1.0, ga.width * ga.height - masked), origin=(ga.x, ga.y))
        fa, fb = self._frame(a, ga), self._frame(b, gb)
        if isinstance(fa, str) or isinstance(fb, str):
            return Comparison(None, fa if isinstance(fa, str) else str(fb))
        return Comparison(diff(fa, fb, mask=mask), origin=(ga.x, ga.y))

    def same(self, a: str | None, b: str | None) -> bool:
        """Whether two screens are known to show the same picture (volatile regions aside)."""
        c = self.compare(a, b)
        return c.diff is not None and c.diff.same

    def _mask(self, g: ScreenGeom) -> npt.NDArray[np.bool_] | None:
        if g not in self._masks:
            self._masks[g] = mask_of(g.width, g.height, self.volatile, origin=(g.x, g.y))
        return self._masks[g]

    def _frame(self, rel: str, g: ScreenGeom) -> RGB | str:
        got = self._frames.get(rel)
        if got is not None:
            self._frames.move_to_end(rel)
            return got
        value = self._load(rel, g)
        self._frames[rel] = value
        if len(self._frames) > self._cache:
            self._frames.popitem(last=False)
        return value

    def _load(self, rel: str, g: ScreenGeom) -> RGB | str:
        try:
            path = self.bundle.screen_path(rel)
        except BundleError as exc:
            return exc.message
        if not path.is_file():
            return f"screen file {rel} is missing"
        try:
            data, w, h = load_rgb(path)
        except Exception as exc:  # Pillow raises many types for a damaged image
            return f"screen file {rel} cannot be decoded ({type(exc).__name__})"
        if (w, h) != (g.width, g.height):
            return f"screen file {rel} is {w}×{h}, its event says {g.width}×{g.height}"
        self.decoded += 1
        return as_rgb(data, w, h)


def dead_rule(a: Action, status: EffectStatus) -> tuple[bool | None, str | None]:
    """Whether ``a`` is dead given its effect status, and why not when that cannot be said.

    Dead: a click, drag, scroll, typed text, key or hotkey after which the screen is unchanged. Never
    dead: moves (a hover may rightly show nothing), waits and marks. Unknown effect: not judged.
    """
    if a.kind not in DEADABLE:
        return None, f"a {a.kind} is never dead"
    if status == "unknown":
        return None, None
    if status == "changed":
        return False, None
    if a.kind == "hotkey" and tuple(a.keys) in OFFSCREEN_HOTKEYS:
        return False, "a copy to the clipboard shows nothing on screen"
    return True, None


def effect_of(a: Action, screens: ScreenComparer) -> Effect:
    """The effect of one action: its pre screen against its post screen."""
    c = screens.compare(a.pre_screen, a.post_screen)
    if c.diff is None:
        dead, why = dead_rule(a, "unknown")
        return Effect("unknown", dead, why=c.why or why)
    d = c.diff
    status: EffectStatus = "unchanged" if d.same else "changed"
    dead, why = dead_rule(a, status)
    box = None
    if d.bbox is not None:
        x, y, w, h = d.bbox
        box = (x + c.origin[0], y + c.origin[1], w, h)
    fraction = round(d.differing / d.compared, 6) if d.compared else 0.0
    return Effect(status, dead, pixels=d.differing, fraction=fraction, box=box, why=why)


def effects_of(actions: Sequence[Action], screens: ScreenComparer) -> list[Effect]:
    return [effect_of(a, screens) for a in actions]

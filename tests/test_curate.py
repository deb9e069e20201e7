"""wf.curate without a display: the pure measures, effects on bundles with real frames, the split planner."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pytest
from actionkit import Stream
from xrig import wf

from wf.bundle.actions import Action, Thresholds, load_actions
from wf.bundle.errors import BadInput
from wf.bundle.events import (
    Header,
    KeyDown,
    KeyUp,
    Mark,
    MouseDown,
    MouseMove,
    MouseUp,
    Stop,
    Volatile,
    Window,
    single_screen_header,
)
from wf.bundle.reader import Bundle
from wf.bundle.validate import validate
from wf.bundle.writer import BundleWriter
from wf.curate.effects import Effect, ScreenComparer, ScreenGeom, dead_rule
from wf.curate.filters import Filters
from wf.curate.metrics import WEIGHTS, combine, count_corrections, count_repeats, deletions, same_step, undos
from wf.curate.quality import assess
from wf.curate.split import plan_split
from wf.curate.split_write import split_bundle
from wf.curate.stream import MIN_TRAVEL, Activity, Hesitation, Travel

W, H = 64, 48


def frame(*, line: int | None = None, clock: int = 0, panel: bool = False) -> bytes:
    """A grey frame; a 1 px vertical line at x=``line``; a 'clock' (top-right 8×8) in shade ``clock``."""
    a = np.full((H, W, 3), 200, dtype=np.uint8)
    if line is not None:
        a[:, line] = 0
    if clock:
        a[0:8, W - 8:W] = clock
    if panel:
        a[20:30, 10:40] = (30, 60, 200)
    return a.tobytes()


class Rec:
    """Writes a bundle the way the recorder does: a ``pre`` screen before each press, a ``post`` after."""

    def __init__(self, path: Path, header: Header | None = None) -> None:
        self.w = BundleWriter(path, header or single_screen_header(W, H, started="2026-01-01T00:00:00+00:00"))
        self.t = 0.0
        self.path = path

    def at(self, dt: float) -> float:
        self.t = round(self.t + dt, 6)
        return self.t

    def screen(self, rgb: bytes, reason: str, dt: float = 0.0) -> None:
        t = self.at(dt)
        self.w.screen_event(t, rgb, W, H, reason, captured=max(t - 0.05, 0.0))  # type: ignore[arg-type]

    def click(self, x: int, y: int, before: bytes | None, after: bytes | None, dt: float = 1.0) -> None:
        t = self.at(dt)
        if before is not None:
            self.w.screen_event(t, before, W, H, "pre", captured=t - 0.05)
        self.w.write(MouseDown(t=t, x=x, y=y, button="left"))
        self.w.write(MouseUp(t=self.at(0.05), x=x, y=y, button="left"))
        if after is not None:
            self.screen(after, "post", dt=0.2)

    def key(self, key: str, before: bytes, after: bytes, mods: tuple[str, ...] = (), char: str | None = None,
            dt: float = 1.0) -> None:
        t = self.at(dt)
        self.w.screen_event(t, before, W, H, "pre", captured=t - 0.05)
        codes = {"ctrl": 37, "shift": 50}
        for m in mods:
            self.w.write(KeyDown(t=t, key=m, keycode=codes[m]))
        self.w.write(KeyDown(t=self.at(0.01), key=key, char=char, keycode=100))
        self.w.write(KeyUp(t=self.at(0.03), key=key, char=char, keycode=100))
        for m in mods:
            self.w.write(KeyUp(t=self.at(0.01), key=m, keycode=codes[m]))
        self.screen(after, "post", dt=0.2)

    def event(self, ev: object, dt: float = 0.0) -> None:
        self.at(dt)
        self.w.write(ev)  # type: ignore[arg-type]

    def close(self, last: bytes) -> Bundle:
        self.screen(last, "stop", dt=0.5)
        self.w.write(Stop(t=self.t, reason="test", events=self.w.lines, dropped=0, screens=self.w.screens_written))
        self.w.close()
        return Bundle.open(self.path)


def effects_bundle(path: Path, *, volatile: bool = True) -> Bundle:
    r = Rec(path)
    r.click(5, 5, None, None, dt=0.1)  # before any screen: its effect cannot be known
    r.screen(frame(), "start")
    r.event(Window(t=r.t, title="app", wm_class="app.App", id=7, x=10, y=5, width=40, height=30))
    if volatile:
        r.event(Volatile(t=r.t, x=W - 8, y=0, width=8, height=8, changes=3))
    r.click(30, 20, frame(), frame(line=30))  # draws a 1 px line: changed
    r.click(50, 40, frame(line=30), frame(line=30, clock=90))  # only the clock ticked: dead
    r.key("c", frame(line=30, clock=90), frame(line=30, clock=90), mods=("ctrl",))  # copy: nothing to see
    r.event(MouseMove(t=r.at(1.0), x=20, y=20))  # rests: a hover, never dead
    return r.close(frame(line=30, clock=90))


def test_effects_count_every_pixel_outside_volatile_regions(tmp_path: Path) -> None:
    a = assess(effects_bundle(tmp_path / "b"))
    kinds = [x.kind for x in a.actions]
    assert kinds == ["click", "click", "click", "hotkey", "move"]
    unknown, line, clock, copy, hover = a.effects
    assert (unknown.status, unknown.dead) == ("unknown", None) and "before" in (unknown.why or "")
    assert (line.status, line.dead, line.pixels, line.box) == ("changed", False, H, (30, 0, 1, H))
    assert (clock.status, clock.dead, clock.pixels) == ("unchanged", True, 0)
    assert (copy.status, copy.dead) == ("unchanged", False) and "clipboard" in (copy.why or "")
    assert hover.dead is None
    q = a.quality
    assert (q.dead.judged, q.dead.dead, q.dead.unknown, q.dead.steps) == (3, 1, 1, [2])
    assert a.windows[1:4] == [(10, 5, 40, 30)] * 3 and a.windows[0] is None


def test_without_the_volatile_region_the_clock_counts(tmp_path: Path) -> None:
    a = assess(effects_bundle(tmp_path / "b", volatile=False))
    clock = a.effects[2]
    assert (clock.status, clock.dead, clock.pixels, clock.box) == ("changed", False, 64, (W - 8, 0, 8, 8))


def test_same_file_needs_no_decoding_and_missing_files_are_unknown(tmp_path: Path) -> None:
    b = effects_bundle(tmp_path / "b")
    geom = ScreenGeom(0, 0, W, H)
    rels = sorted({f"screens/{p.name}" for p in (b.path / "screens").iterdir()})
    cmp = ScreenComparer(b, dict.fromkeys(rels, geom), [])
    assert cmp.compare(rels[0], rels[0]).diff.same and cmp.decoded == 0  # type: ignore[union-attr]
    (b.path / rels[1]).unlink()
    c = cmp.compare(rels[0], rels[1])
    assert c.diff is None and "missing" in (c.why or "")
    other = ScreenComparer(b, {rels[0]: geom, rels[2]: ScreenGeom(0, 0, 32, 24)}, [])
    assert "geometry" in (other.compare(rels[0], rels[2]).why or "")


def _act(kind: str, index: int = 0, **kw: object) -> Action:
    return Action(index=index, kind=kind, t_start=float(index), t_end=float(index), first_event=index,
                  last_event=index, **kw)  # type: ignore[arg-type]


def test_dead_rule_per_kind() -> None:
    for kind in ("click", "drag", "scroll", "type", "key", "hotkey"):
        assert dead_rule(_act(kind), "unchanged")[0] is True
        assert dead_rule(_act(kind), "changed")[0] is False
        assert dead_rule(_act(kind), "unknown")[0] is None
    for kind in ("move", "wait", "mark"):
        assert dead_rule(_act(kind), "unchanged")[0] is None
    assert dead_rule(_act("hotkey", keys=("ctrl", "c")), "unchanged")[0] is False
    assert dead_rule(_act("hotkey", keys=("ctrl", "v")), "unchanged")[0] is True


def test_corrections_count_deletions_undos_and_reverts_once() -> None:
    acts = [_act("type", 0, text="helo"), _act("key", 1, keys=("backspace",), count=2),
            _act("hotkey", 2, keys=("ctrl", "z")), _act("hotkey", 3, keys=("ctrl", "backspace")),
            _act("click", 4, x=1, y=1), _act("key", 5, keys=("esc",))]
    assert [deletions(a) for a in acts] == [0, 2, 0, 1, 0, 0]
    assert [undos(a) for a in acts] == [0, 0, 1, 0, 0, 0]
    c = count_corrections(acts, [(0, 1), (4, 5)])  # backspace undid the typing (already a deletion), esc the click
    assert (c.deletions, c.undos, c.reverted, c.total) == (3, 1, 2, 5)


def test_reverted_step_seen_on_the_screens(tmp_path: Path) -> None:
    r = Rec(tmp_path / "b")
    r.screen(frame(), "start")
    r.click(20, 20, frame(), frame(panel=True))  # opens a panel
    r.key("esc", frame(panel=True), frame())  # closes it: back to the screen before the click
    r.click(40, 40, frame(), frame(line=5))
    q = assess(r.close(frame(line=5))).quality
    assert q.corrections.reverted_steps == [(0, 1)] and q.corrections.total == 1 and q.corrections.deletions == 0


def test_repeats_and_retries() -> None:
    acts = [_act("click", 0, x=10, y=10, button="left"), _act("wait", 1),
            _act("click", 2, x=12, y=11, button="left"), _act("click", 3, x=50, y=50, button="left"),
            _act("type", 4, text="a"), _act("type", 5, text="a"), _act("type", 6, text="b")]
    dead = Effect("unchanged", True)
    live = Effect("changed", False)
    r = count_repeats(acts, [dead, Effect("unchanged", None), live, live, live, live, live])
    assert (r.repeats, r.retries, r.steps) == (2, 1, (2, 5))
    assert not same_step(acts[0], _act("click", 9, x=10, y=10, button="right"))
    assert not same_step(acts[0], _act("click", 9, x=10, y=10, button="left", count=2))


def test_score_is_the_weighted_mean_of_what_was_measured() -> None:
    assert combine(dict.fromkeys(WEIGHTS, 1.0)) == 1.0
    assert combine(dict.fromkeys(WEIGHTS)) is None
    only = {k: None for k in WEIGHTS} | {"dead": 0.5, "activity": 1.0}
    assert combine(only) == round((0.25 * 0.5 + 0.2 * 1.0) / 0.45, 4)
    assert abs(sum(WEIGHTS.values()) - 1.0) < 1e-9


def test_activity_counts_idle_gaps_and_leaves_pauses_out() -> None:
    act = Activity(idle_gap=2.0)
    for t in (1.0, 2.0, 6.0, 7.0):
        act.input(t)
    act.pause(7.5)
    act.resume(20.0)
    for t in (21.0, 21.5):
        act.input(t)
    act.finish()
    assert (act.span, act.idle, act.gaps, act.active, act.paused) == (6.5, 4.0, 1, 2.5, 12.5)


def test_travel_efficiency_straight_zigzag_and_wandering_back() -> None:
    straight = Travel(hover_dwell=0.5)
    for n in range(1, 11):
        straight.move(n * 0.01, n * 10, 0)
    straight.press(100, 0)
    assert straight.efficiency == 1.0 and straight.travels == 1

    zigzag = Travel(hover_dwell=0.5)
    zigzag.start((0, 0))
    for k, (x, y) in enumerate([(50, 50), (100, 0)]):
        zigzag.move(0.01 * (k + 1), x, y)
    zigzag.press(100, 0)
    assert zigzag.efficiency == pytest.approx(100 / (2 * 50 * 2 ** 0.5))

    back = Travel(hover_dwell=0.5)
    back.start((0, 0))
    for k, (x, y) in enumerate([(100, 0), (100, 100), (0, 100), (0, 0)]):
        back.move(0.01 * (k + 1), x, y)
    back.press(0, 0)  # 400 px of path to end where it began
    assert back.efficiency == pytest.approx(MIN_TRAVEL / 400)


def test_travel_ignores_drags_and_splits_at_rests() -> None:
    t = Travel(hover_dwell=0.5)
    t.start((0, 0))
    t.press(0, 0)
    for k in range(1, 20):  # a drag's own path is the gesture, not travel
        t.move(k * 0.01, (k % 2) * 300, k * 10)
    t.release(0, 190)
    assert t.path == 0 and t.travels == 0
    t.move(1.0, 0, 290)
    t.move(2.0, 100, 290)  # rested 1 s at (0, 290) before: two travels, each straight
    t.press(100, 290)
    assert t.travels == 2 and t.efficiency == 1.0


def test_hesitation_mid_typing_and_while_a_button_is_held() -> None:
    s = Stream()
    s.type("ab", dt=0.1)
    s.press("c", dt=0.7)  # a pause inside the run (runs break after 1 s)
    s.press("d", dt=1.5)  # a new run: not mid-step
    s.key_down("x", dt=0.1)
    for _ in range(3):
        s.key_down("x", dt=0.6)  # autorepeat of a held key
    s.key_up("x")
    s.down(5, 5, dt=0.2)
    s.move(6, 6, dt=0.9)  # held still for 0.9 s mid-drag
    s.up(6, 6, dt=0.1)
    h = Hesitation()
    for ev in s.events:
        h.feed(ev)
    assert h.pauses == 2 and h.seconds == pytest.approx(0.73 + 0.9)  # press to press: 0.03 s release + 0.7 s


def test_planner_cuts_at_marks_and_idle_gaps() -> None:
    s = Stream()
    s.click(1, 1)
    s.mark("second task")
    s.click(2, 2)
    s.click(3, 3, dt=10.0)  # an idle gap of ~10 s
    s.key_down("a", dt=0.1)
    s.key_up("a", dt=8.0)  # a key held across a long gap: never cut inside a press
    s.stop()
    plan = plan_split(s.events, marks=True, idle=5.0)
    assert [(p.first, p.reason, p.label) for p in plan.parts] == [(0, "start", None), (2, "mark", "second task"),
                                                                  (5, "idle", None)]
    assert plan.parts[-1].last == len(s.events) - 1
    assert len(plan_split(s.events, marks=False, idle=None).parts) == 1
    lead = Stream()
    lead.screen("x")
    lead.mark("first")  # nothing before the first mark: no empty part
    lead.click(1, 1)
    assert [(p.first, p.reason, p.label) for p in plan_split(lead.events).parts] == [(0, "start", "first")]


def marked_bundle(path: Path) -> Bundle:
    r = Rec(path)
    r.screen(frame(), "start")
    r.event(Window(t=r.t, title="app", wm_class="app.App", id=7, x=0, y=0, width=W, height=H))
    r.event(Volatile(t=r.t, x=W - 8, y=0, width=8, height=8))
    r.click(10, 10, frame(), frame(line=1))
    r.event(Mark(t=r.at(0.5), label="second"))
    r.screen(frame(line=1), "mark")
    r.click(20, 20, frame(line=1), frame(line=2))
    r.key("a", frame(line=2), frame(line=3), char="a")
    r.event(Mark(t=r.at(0.5), label=None))
    r.click(30, 30, frame(line=3), frame(line=4))
    return r.close(frame(line=4))


def test_split_at_two_marks_gives_three_valid_bundles_whose_steps_add_up(tmp_path: Path) -> None:
    original = marked_bundle(tmp_path / "rec")
    before = [a.describe() for a in assess(original).actions]
    res = split_bundle(original, tmp_path / "parts")
    assert [p.reason for p in res.parts] == ["start", "mark", "mark"]
    after: list[str] = []
    referenced: list[set[str]] = []
    for p in res.parts:
        b = Bundle.open(p.path)
        report = validate(b)
        assert report.ok and report.warnings == [], report
        after += [a.describe() for a in assess(b).actions]
        src = b.header.source
        assert src is not None and (src.bundle, src.part, src.parts) == ("rec", p.part, 3)
        assert (src.first_event, src.last_event) == (p.first_event, p.last_event)
        events = list(b.events())
        assert events[0].t == 0.0 and type(events[-1]) is Stop
        paths = {e.path for e in events if hasattr(e, "path")}
        referenced.append(paths)
        assert {f"screens/{f.name}" for f in (p.path / "screens").iterdir()} == paths  # only what it needs
        for rel in paths:
            assert (p.path / rel).stat().st_ino != (original.path / rel).stat().st_ino  # a copy, not a link
    assert after == before
    first, second, third = (Bundle.open(p.path).header for p in res.parts)
    assert (first.task, second.task, third.task) == (None, "second", None)
    assert first.started == original.header.started and second.started > first.started
    assert sum(p.last_event - p.first_event + 1 for p in res.parts) == len(list(original.events()))


def test_split_parts_keep_the_volatile_regions_and_restate_screen_and_window(tmp_path: Path) -> None:
    res = split_bundle(marked_bundle(tmp_path / "rec"), tmp_path / "parts")
    head = list(Bundle.open(res.parts[2].path).events())[:3]
    assert [type(e).__name__ for e in head] == ["Screen", "Window", "Volatile"]
    assert head[0].reason == "start" and head[1].title == "app"  # type: ignore[union-attr]


def test_split_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    r = Rec(tmp_path / "flat")
    r.screen(frame(), "start")
    r.click(1, 1, frame(), frame(line=1))
    b = r.close(frame(line=1))
    with pytest.raises(BadInput, match="no mark"):
        split_bundle(b, tmp_path / "out")
    with pytest.raises(BadInput, match="--no-marks without --idle"):
        split_bundle(b, tmp_path / "out", marks=False)
    with pytest.raises(BadInput, match="positive"):
        split_bundle(b, tmp_path / "out", idle=-1)
    assert not (tmp_path / "out").exists()
    res = wf("split", b.path, "--out", tmp_path / "out")
    assert res.returncode == 2 and "nothing to split" in res.stderr and "Traceback" not in res.stderr


def test_source_header_field_round_trips_and_old_readers_ignore_it(tmp_path: Path) -> None:
    res = split_bundle(marked_bundle(tmp_path / "rec"), tmp_path / "parts")
    line = (res.parts[1].path / "events.jsonl").read_bytes().split(b"\n", 1)[0]
    raw = json.loads(line)
    assert raw["source"]["reason"] == "mark" and raw["minor"] == single_screen_header(1, 1, started="x").minor

    class OldHeader(msgspec.Struct):  # a reader that predates the field: unknown fields are ignored
        format: str
        version: int

    assert msgspec.json.decode(line, type=OldHeader).version == 1


def test_filters() -> None:
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(BadInput):
            Filters(min_quality=bad)
    assert Filters().step(Effect("unchanged", True)) is None
    assert "dead" in (Filters(drop_dead_steps=True).step(Effect("unchanged", True)) or "")
    assert Filters(drop_dead_steps=True).step(Effect("unknown", None)) is None


def test_quality_json_on_the_command_line() -> None:
    res = wf("inspect", "fixtures/samples/valid", "--quality", "--json")
    assert res.returncode == 0, res.stderr
    q = json.loads(res.stdout)["quality"]
    assert 0 <= q["score"] <= 1 and set(q["components"]) == set(WEIGHTS)
    res = wf("inspect", "fixtures/samples/valid", "--quality", "--actions", "--json")
    assert all("screen_effect" in a for a in json.loads(res.stdout))


def test_reduction_is_unchanged_by_the_tap(tmp_path: Path) -> None:
    b = marked_bundle(tmp_path / "rec")
    assert assess(b).actions == load_actions(b, Thresholds())  # the same steps, each with its monitor

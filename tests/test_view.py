"""`wf view` rendered in a real headless Chromium: steps, screens, escaping, report diffs, scale."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from viewkit import (
    ARTIFACTS,
    XSS_TEXT,
    XSS_TITLE,
    browser,
    fixture_bundle,
    gestures_bundle,
    open_page,
    replay_report,
    synthetic_bundle,
)
from xrig import display, wf

from wf.bundle.actions import load_actions
from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.replays import Checkpoint, EventRow, Failure, encode_report

pytestmark = pytest.mark.display
SCREEN = (640, 400)


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A bundle of the fixture app driven on a small private Xvfb (the app fills most of it)."""
    with display(*SCREEN) as d:
        yield fixture_bundle(d, tmp_path_factory.mktemp("view") / "session")


def render(*args: str | Path) -> Path:
    res = wf("view", *args)
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip().splitlines()[-1])


def expected_steps(bundle: Path) -> int:
    """The step count `wf inspect --actions --json` reports."""
    res = wf("inspect", bundle, "--actions", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    if isinstance(data, dict):
        data = data.get("actions", data.get("steps"))
    assert isinstance(data, list), res.stdout[:200]
    return len(data)


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    return target


def images_loaded(page: Any, selector: str) -> list[int]:
    """naturalWidth of each image matched: 0 means the browser could not load it."""
    return page.eval_on_selector_all(selector, "els => els.map(e => e.complete ? e.naturalWidth : -1)")


def wait_images(page: Any, selector: str) -> list[int]:
    page.wait_for_function(f"() => [...document.querySelectorAll({selector!r})].every(e => e.complete)",
                           timeout=10000)
    return images_loaded(page, selector)


def test_page_loads_clean_and_counts_the_steps(chrome: Any, recorded: Path) -> None:
    html = render(recorded)
    assert html == recorded.parent / "session.html"  # beside the bundle, not inside it
    assert (html.stat().st_mode & 0o777) == 0o600
    w = open_page(chrome, html.as_uri())
    n = expected_steps(recorded)
    assert n >= 4
    assert w.page.inner_text("#step-count") == str(n)
    assert w.page.evaluate("JSON.parse(document.getElementById('wf-data').textContent).steps.length") == n
    assert w.page.inner_text("#step-no") == f"#0 / {n - 1}"
    assert w.errors == []
    assert w.dialogs == []
    assert all(u.startswith("file://") for u in w.requests), w.requests  # nothing from the network
    shot(w.page, "view-recorded.png")


def test_clicking_a_step_shows_its_screenshots(chrome: Any, recorded: Path) -> None:
    html = render(recorded)
    steps = load_actions(Bundle.open(recorded))
    w = open_page(chrome, html.as_uri())
    target = next(s for s in steps if s.kind == "type")
    w.page.click(f".card[data-step='{steps.index(target)}']")
    assert w.page.inner_text("#step-kind") == "type"
    assert w.page.get_attribute(f".card[data-step='{steps.index(target)}']", "class").split().count("selected") == 1
    pre = w.page.get_attribute("#shot-pre img", "src")
    post = w.page.get_attribute("#shot-post img", "src")
    assert pre == f"session/{target.pre_screen}"
    assert post == f"session/{target.post_screen}"
    assert wait_images(w.page, ".frame img") == [SCREEN[0], SCREEN[0]]  # really loaded through the relative links
    assert w.page.locator("#shot-pre svg .ov-text").count() >= 1  # the typed text is drawn on the screen
    assert XSS_TEXT in w.page.inner_text("#props")
    assert w.errors == []


def test_recorded_markup_is_shown_as_text_and_never_runs(chrome: Any, recorded: Path) -> None:
    html = render(recorded)
    source = html.read_text()
    assert "<script>alert" not in source and "<img src=x" not in source and "<b>hi</b>" not in source
    w = open_page(chrome, html.as_uri())
    page = w.page
    assert XSS_TITLE in page.inner_text("#props")  # the title, literally, as text
    assert page.inner_text("#task") == "Count to one & type <b>hi</b>"
    for n in range(int(page.inner_text("#step-count"))):
        page.keyboard.press("ArrowRight" if n else "Home")
    assert page.locator("body script").count() == 2  # the data block and wf's own script, nothing else
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("b").filter(has_text="hi").count() == 0
    time.sleep(0.3)
    assert w.dialogs == []
    assert w.errors == []


def test_keyboard_moves_between_steps(chrome: Any, recorded: Path) -> None:
    w = open_page(chrome, render(recorded).as_uri())
    page = w.page

    def at() -> str:
        return page.inner_text("#step-no").split()[0]

    for key, want in (("ArrowRight", "#1"), ("j", "#2"), ("k", "#1"), ("ArrowLeft", "#0"), ("ArrowLeft", "#0"),
                      ("End", f"#{int(page.inner_text('#step-count')) - 1}"), ("Home", "#0")):
        page.keyboard.press(key)
        assert at() == want, key
    assert page.evaluate("location.hash") == "#step-0"
    page.click("#timeline", position={"x": page.locator("#timeline").bounding_box()["width"] - 2, "y": 20})
    assert at() != "#0"  # the timeline seeks
    assert w.errors == []


def test_out_elsewhere_keeps_links_right(chrome: Any, recorded: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "page.html"
    out.parent.mkdir(parents=True)
    render(recorded, "--out", out)
    w = open_page(chrome, out.as_uri())
    assert w.page.get_attribute("#shot-pre img", "src").startswith("../../")
    assert min(wait_images(w.page, ".frame img, .card img")) > 0
    assert w.errors == []


def test_embed_makes_one_shareable_file(chrome: Any, recorded: Path, tmp_path: Path) -> None:
    out = tmp_path / "embedded.html"
    render(recorded, "--embed", "--out", out)
    moved = tmp_path / "elsewhere" / "shared.html"
    moved.parent.mkdir()
    shutil.move(out, moved)  # far away from the bundle: still complete
    assert not (tmp_path / "embedded_files").exists()
    w = open_page(chrome, moved.as_uri())
    assert w.page.get_attribute("#shot-pre img", "src").startswith("data:image/png;base64,")
    assert min(wait_images(w.page, ".frame img, .card img")) > 0
    assert [u for u in w.requests if not u.startswith("data:")] == [moved.as_uri()]
    assert w.errors == []


def _fake_report(bundle_dir: Path, report_dir: Path) -> tuple[Path, int]:
    """A failing report in the replayer's schema: one checkpoint replayed the wrong screen (a lost click)."""
    b = Bundle.open(bundle_dir)
    steps = load_actions(b)
    first_screen = next(e for e in b.events() if isinstance(e, Screen)).path
    (report_dir / "replay").mkdir()
    checkpoints, rows = [], []
    bad = next(n for n, s in enumerate(steps) if s.kind == "type")
    for n, s in enumerate(steps):
        if not s.pre_screen:
            continue
        replayed = report_dir / "replay" / f"{n:04d}.png"
        src = first_screen if n == bad else s.pre_screen
        shutil.copy(bundle_dir / src, replayed)
        checkpoints.append(Checkpoint(event=s.first_event, label="pre", recorded=s.pre_screen,
                                      similarity=0.97 if n == bad else 1.0, diff_fraction=0.004 if n == bad else 0.0,
                                      differing=900 if n == bad else 0, replayed=f"replay/{n:04d}.png",
                                      passed=n != bad))
        for e in range(s.first_event, s.last_event + 1):
            rows.append(EventRow(event=e, type="MouseDown", detail="x", scheduled=0.1 * e, injected=0.1 * e,
                                 captured=0.1 * e + 0.001, timing_error=0.0005 * (e % 5) + (0.02 if n == bad else 0),
                                 pointer_error=0.0 if n != bad else 3.0, step=n))
    failure = Failure(check="screen", message=f"screen before event {steps[bad].first_event} differs: 0.4% of "
                      "pixels <script>alert(3)</script>", event=steps[bad].first_event)
    path = report_dir / "report.json"
    path.write_bytes(encode_report(replay_report(bundle_dir, checkpoints, rows, failures=[failure])))
    return path, bad


def test_failing_report_shows_the_diff_first(chrome: Any, recorded: Path, tmp_path: Path) -> None:
    report, bad = _fake_report(recorded, tmp_path)
    out = tmp_path / "report.html"
    res = wf("view", recorded, "--report", report, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "1 diff pictures" in res.stderr
    w = open_page(chrome, out.as_uri())
    page = w.page
    assert page.text_content("#verdict") == "failed"
    assert page.inner_text("#step-no").split()[0] == f"#{bad}"  # opens on the failing step
    assert page.is_visible("#step-check")
    assert "FAIL" in page.inner_text("#check-props")
    assert page.get_attribute("#chk-diff img", "src").startswith("report_files/diff-")
    assert min(wait_images(page, "#step-check img")) > 0
    assert "FAIL" in page.locator("#worst li").first.inner_text()  # worst first
    assert "<script>alert(3)</script>" in page.inner_text("#failures")
    assert page.locator("#plot-timing circle").count() > 3
    assert page.locator("#plot-pointer circle.fail").count() >= 1
    assert page.locator(".card.fail").count() == 1
    page.keyboard.press("Home")
    assert not page.is_visible("#step-check img[src*='diff']")
    page.keyboard.press("f")
    assert page.inner_text("#step-no").split()[0] == f"#{bad}"
    assert w.errors == [] and w.dialogs == []
    shot(page, "view-report.png")


def test_thousands_of_steps_do_not_freeze(chrome: Any, tmp_path: Path) -> None:
    bundle = synthetic_bundle(tmp_path / "long", 3000)
    started = time.monotonic()
    html = render(bundle)
    render_s = time.monotonic() - started
    t0 = time.monotonic()
    w = open_page(chrome, html.as_uri())
    load_s = time.monotonic() - t0
    page = w.page
    assert page.inner_text("#step-count") == "3000"
    assert page.locator(".card").count() < 60  # only the visible part of the strip exists
    t0 = time.monotonic()
    for _ in range(50):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    nav_s = time.monotonic() - t0
    assert page.inner_text("#step-no").split()[0] == "#2999"
    assert page.locator(".card.selected").count() == 1
    assert w.errors == []
    print(f"3000 steps: render {render_s:.2f} s, page load {load_s:.2f} s, 51 key steps {nav_s:.2f} s")
    assert load_s < 10 and nav_s < 10


def test_every_gesture_is_drawn_on_its_screens(chrome: Any, tmp_path: Path) -> None:
    bundle = gestures_bundle(tmp_path / "g")
    res = wf("annotate", bundle, "--outcome", "partial", "--tag", "<i>demo</i>")
    assert res.returncode == 0, res.stderr
    res = wf("annotate", bundle, "--step", "1", "--note", "right <u>double</u> click", "--label", "open menu")
    assert res.returncode == 0, res.stderr
    res = wf("annotate", bundle, "--step", "4", "--drop")
    assert res.returncode == 0, res.stderr
    w = open_page(chrome, render(bundle).as_uri())
    page = w.page
    kinds = page.evaluate("JSON.parse(document.getElementById('wf-data').textContent).steps.map(s => s.kind)")
    assert kinds == ["drag", "click", "hotkey", "scroll", "key", "mark"]

    def overlay(selector: str) -> list[str]:
        return page.eval_on_selector_all(f"#shot-pre svg {selector}", "els => els.map(e => e.textContent)")

    assert len(page.get_attribute("#shot-pre svg polyline", "points").split()) == 12  # press, 10 moves, release
    assert overlay(".ov-text") == ["drag left"]
    page.keyboard.press("j")
    assert overlay(".ov-text") == ["right ×2"]
    assert "open menu" in page.inner_text("#step-ann") and "right <u>double</u> click" in page.inner_text("#step-ann")
    assert page.locator(".card[data-step='1'] .lbl").inner_text().endswith("open menu")
    page.keyboard.press("j")
    assert overlay(".ov-text") == ["⌨ ctrl+shift+t"]
    page.keyboard.press("j")
    assert overlay(".ov-text") == ["scroll dx=0 dy=-3"] and page.locator("#shot-pre svg path.ov-arrow").count() == 1
    page.keyboard.press("j")
    assert overlay(".ov-text") == ["⌨ enter"]
    assert "dropped" in page.inner_text("#step-ann")
    assert "dropped" in page.get_attribute(".card[data-step='4']", "class")
    page.keyboard.press("j")
    assert overlay(".ov-text") == ["⚑ checkpoint"]
    assert page.inner_text("#shot-post") == "no screen recorded"
    assert page.locator("#timeline line.mark").count() == 1
    header = page.inner_text("header")
    assert "partial" in header and "<i>demo</i>" in header
    assert w.errors == []
    shot(page, "view-gestures.png")


def test_empty_bundle_and_missing_screens_still_render(chrome: Any, tmp_path: Path) -> None:
    empty = synthetic_bundle(tmp_path / "empty", 0)
    w = open_page(chrome, render(empty).as_uri())
    assert w.page.inner_text("#step-count") == "0"
    assert w.page.inner_text("#step-desc") == "this bundle has no steps"
    assert w.errors == []
    broken = synthetic_bundle(tmp_path / "broken", 3)
    for png in (broken / "screens").iterdir():
        png.unlink()
    w = open_page(chrome, render(broken).as_uri())
    assert w.page.inner_text("#shot-pre").startswith("screen file missing")
    assert w.errors == []

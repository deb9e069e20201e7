"""The whole story: `wf record` a real app, break one click, `wf replay` fails, `wf view` shows where."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from viewkit import browser, open_page
from xrig import FIXTURES, WF, display, wf

pytestmark = [pytest.mark.display, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS_SHOT = Path(__file__).resolve().parent.parent / "docs" / "viewer.png"
INCREMENT = (100, 40)
ELSEWHERE = (300, 100)  # on the counter label: a click there does nothing


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    with browser() as b:
        yield b


def record_session(out: Path) -> None:
    """Record a person using the fixture app: Increment, click the entry, type, scroll."""
    with display(640, 400) as d:
        rec = subprocess.Popen([*WF, "record", str(out), "-q", "--duration", "6", "--task", "Count to <one> & greet",
                                "--launch", f"{sys.executable} {FIXTURES / 'app.py'}"],
                               env=d.env(), stderr=subprocess.PIPE, text=True)
        try:
            d.wait_window("--name", "wf fixture")
            time.sleep(0.8)
            d.xdotool("mousemove", *INCREMENT)
            time.sleep(0.3)
            d.xdotool("click", 1)
            time.sleep(0.5)
            d.xdotool("mousemove", 200, 235)
            time.sleep(0.3)
            d.xdotool("click", 1)
            time.sleep(0.3)
            d.xdotool("type", "--delay", "50", "hi <script>")
            time.sleep(0.5)
            d.xdotool("mousemove", 200, 285)
            time.sleep(0.3)
            d.xdotool("click", "--repeat", "2", "4")
            assert rec.wait(30) == 0, rec.stderr.read()
        finally:
            if rec.poll() is None:
                rec.kill()


def move_clicks(bundle: Path, old: tuple[int, int], new: tuple[int, int]) -> None:
    """Tamper with a copy: every pointer event at ``old`` now happens at ``new``."""
    lines = (bundle / "events.jsonl").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        ev = json.loads(line)
        if ev.get("type") in ("mouse_move", "mouse_down", "mouse_up") and (ev["x"], ev["y"]) == old:
            ev["x"], ev["y"] = new
        out.append(json.dumps(ev))
    (bundle / "events.jsonl").write_text("\n".join(out) + "\n")


def test_view_of_a_real_recording_and_its_failing_replay(chrome: Any, tmp_path: Path) -> None:
    original = tmp_path / "session"
    record_session(original)
    res = wf("inspect", original, "--actions", "--json")
    assert res.returncode == 0, res.stderr
    actions = json.loads(res.stdout)
    actions = actions if isinstance(actions, list) else actions["actions"]
    assert [a["kind"] for a in actions][:3] == ["click", "click", "type"]

    # The recording itself: every step's screens load through relative links.
    res = wf("view", original)
    assert res.returncode == 0, res.stderr
    w = open_page(chrome, (tmp_path / "session.html").as_uri())
    assert w.page.inner_text("#step-count") == str(len(actions))
    for _ in actions:
        w.page.wait_for_function("() => [...document.querySelectorAll('.frame img')].every(i => i.complete)")
        assert min(w.page.eval_on_selector_all(".frame img", "els => els.map(e => e.naturalWidth)")) == 640
        w.page.keyboard.press("ArrowRight")
    assert w.errors == [] and w.dialogs == []

    # Replay a copy whose first click misses the button: the counter never reaches one.
    broken = tmp_path / "broken"
    shutil.copytree(original, broken)
    move_clicks(broken, INCREMENT, ELSEWHERE)
    report = tmp_path / "replay" / "report.json"
    report.parent.mkdir()
    res = wf("replay", broken, "--xvfb", "--report", report, timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    res = wf("view", broken, "--report", report, "--out", tmp_path / "replay" / "view.html")
    assert res.returncode == 0, res.stderr
    w = open_page(chrome, (tmp_path / "replay" / "view.html").as_uri())
    page = w.page
    assert page.text_content("#verdict") == "failed"
    opened = int(page.inner_text("#step-no").split()[0][1:])
    assert opened == 0  # opens on the missed click itself: the step whose effect never happened
    assert page.inner_text("#effect-props").split("\n")[0].split("\t")[-1].startswith("differs")
    assert page.locator("#eff-rep svg rect.ov-bbox").count() == 1  # where: the counter that never changed
    assert "coverage" in page.inner_text("#top")
    page.keyboard.press("f")  # the next failing step: its checkpoint shows the same missing count
    assert int(page.inner_text("#step-no").split()[0][1:]) > 0
    assert "FAIL" in page.inner_text("#check-props")
    page.wait_for_function("() => [...document.querySelectorAll('#step-check img')].every(i => i.complete)")
    assert min(page.eval_on_selector_all("#step-check img", "els => els.map(e => e.naturalWidth)")) == 640
    assert page.locator("#chk-diff svg rect.ov-bbox").count() == 1  # the changed counter, boxed
    assert page.locator("#failures li.link").count() >= 1
    page.locator("#failures li.link").first.click()
    assert page.is_visible("#step-check")
    assert page.locator("#plot-timing circle").count() > 5
    assert w.errors == [] and w.dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "view-real-replay.png"), full_page=True)
    if not DOCS_SHOT.exists() or os.environ.get("WF_UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1400, "height": 1360})
        page.screenshot(path=str(DOCS_SHOT))

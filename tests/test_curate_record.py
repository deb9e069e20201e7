"""Signal on real recordings: a direct and a noisy session of one task, recorded with `wf record` on Xvfb.

The noisy session's noise is planted a known number of times (tests/curatekit.py), so the measures are
held to exact counts: its dead clicks are exactly the clicks on empty background, its corrections the one
Backspace, its idle gap the one long pause. Then the filters, the splitter and the viewer on the same data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from curatekit import BACKGROUND, DEAD_CLICKS, HESITATIONS, IDLE_SECONDS, Session, record_marked, record_task
from viewkit import browser, open_page
from xrig import Display, display, wf

pytestmark = [pytest.mark.display, pytest.mark.slow]


@pytest.fixture(scope="module")
def desk() -> Iterator[Display]:
    with display() as d:
        yield d


@pytest.fixture(scope="module")
def pair(desk: Display, tmp_path_factory: pytest.TempPathFactory) -> tuple[Session, Session]:
    root = tmp_path_factory.mktemp("pair")
    return record_task(desk, root / "direct", noisy=False), record_task(desk, root / "noisy", noisy=True)


def quality(bundle: Path) -> dict[str, Any]:
    res = wf("inspect", bundle, "--quality", "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["quality"]  # type: ignore[no-any-return]


def steps(bundle: Path) -> list[dict[str, Any]]:
    res = wf("inspect", bundle, "--quality", "--actions", "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def describe(bundle: Path) -> list[tuple[str, Any, Any, Any]]:
    return [(a["kind"], a["x"], a["y"], a["text"]) for a in steps(bundle)]


def test_the_noise_changes_nothing_the_task_needed(pair: tuple[Session, Session]) -> None:
    direct, noisy = pair
    assert direct.state == noisy.state
    assert (direct.state["counter"], direct.state["text"], direct.state["confirmed"]) == (1, "hello", 1)
    for s in pair:
        assert wf("validate", s.bundle).returncode == 0


def test_noisy_session_scores_lower_and_its_dead_clicks_are_counted_exactly(pair: tuple[Session, Session]) -> None:
    direct, noisy = pair
    qd, qn = quality(direct.bundle), quality(noisy.bundle)
    assert qn["score"] < qd["score"]
    assert (qd["dead"]["dead"], qn["dead"]["dead"]) == (0, DEAD_CLICKS)
    assert qn["dead"]["by_kind"] == {"click": DEAD_CLICKS} and qn["dead"]["unknown"] == 0
    noisy_steps = steps(noisy.bundle)
    dead = [(a["x"], a["y"]) for a in noisy_steps if a["screen_effect"]["dead"]]
    assert dead == list(BACKGROUND)  # exactly the clicks on empty background, nothing else
    assert all(a["screen_effect"]["status"] == "changed" for a in noisy_steps
               if a["kind"] in ("click", "type", "key") and (a["x"], a["y"]) not in BACKGROUND)
    assert all(a["screen_effect"]["status"] == "changed" for a in steps(direct.bundle))
    assert (qd["corrections"]["total"], qn["corrections"]["deletions"], qn["corrections"]["total"]) == (0, 1, 1)
    assert qd["activity"]["idle_gaps"] == 0 and qn["activity"]["idle_gaps"] == 1
    assert qn["activity"]["longest_idle"] >= IDLE_SECONDS
    assert qd["pointer"]["efficiency"] > 0.95 > 0.5 > qn["pointer"]["efficiency"]  # xdotool moves in straight jumps
    assert (qd["hesitation"]["pauses"], qn["hesitation"]["pauses"]) == (0, HESITATIONS)
    for name, value in qn["components"].items():
        if value is not None:
            assert value <= qd["components"][name], name


def test_min_quality_between_the_two_keeps_only_the_direct_one(pair: tuple[Session, Session], tmp_path: Path) -> None:
    direct, noisy = pair
    qd, qn = quality(direct.bundle)["score"], quality(noisy.bundle)["score"]
    out = tmp_path / "pq"
    res = wf("export", direct.bundle, noisy.bundle, "-f", "parquet", "-o", out, "--min-quality", f"{(qd + qn) / 2:.4f}",
             "--json")
    assert res.returncode == 0, res.stderr
    m = json.loads(res.stdout)
    assert [b["path"] for b in m["bundles"]] == [str(direct.bundle)] and m["skipped"] == []
    (f,) = m["filtered"]
    assert f["path"] == str(noisy.bundle) and f["quality_score"] == qn and "below --min-quality" in f["reason"]
    assert json.loads((out / "manifest.json").read_text())["filtered"] == m["filtered"]
    rows = pq.read_table(out / m["files"][0]["path"]).to_pylist()
    assert len(rows) == m["steps"] == 5
    assert {r["quality_score"] for r in rows} == {qd}
    assert all(json.loads(r["screen_effect"])["status"] == "changed" for r in rows)
    assert json.loads(rows[0]["quality_components"])["dead"] == 1.0


def test_drop_dead_steps_leaves_out_exactly_the_dead_ones(pair: tuple[Session, Session], tmp_path: Path) -> None:
    noisy = pair[1]
    dead = quality(noisy.bundle)["dead"]["steps"]
    every = wf("export", noisy.bundle, "-f", "agentnet", "-o", tmp_path / "all", "--json")
    kept = wf("export", noisy.bundle, "-f", "agentnet", "-o", tmp_path / "kept", "--drop-dead-steps", "--json")
    assert every.returncode == 0 and kept.returncode == 0, kept.stderr
    m_all, m_kept = json.loads(every.stdout), json.loads(kept.stdout)
    assert m_kept["bundles"][0]["dead_dropped"] == dead and len(dead) == DEAD_CLICKS
    assert m_all["bundles"][0]["dead_dropped"] == [] and m_kept["drop_dead_steps"] is True
    assert m_kept["steps"] == m_all["steps"] - DEAD_CLICKS
    (line,) = (tmp_path / "kept" / "agentnet.jsonl").read_text().splitlines()
    traj = json.loads(line)["traj"]
    assert [t["step"] for t in traj] == [t["step"] for t in
                                         json.loads((tmp_path / "all" / "agentnet.jsonl").read_text())["traj"]
                                         if t["step"] not in dead]
    assert not any(t["screen_effect"]["dead"] for t in traj)


def test_split_at_the_long_idle_gap(pair: tuple[Session, Session], tmp_path: Path) -> None:
    noisy = pair[1].bundle
    res = wf("split", noisy, "--out", tmp_path / "parts", "--idle", "5", "--no-marks", "--json")
    assert res.returncode == 0, res.stderr
    parts = json.loads(res.stdout)
    assert [p["reason"] for p in parts] == ["start", "idle"]
    whole = steps(noisy)
    cut_t = parts[1]["t_offset"]
    # The wait that spans the cut belongs to neither task; every other step is in exactly one part.
    expected = [(a["kind"], a["x"], a["y"], a["text"]) for a in whole
                if not (a["kind"] == "wait" and a["t_start"] < cut_t < a["t_end"])]
    got = []
    for p in parts:
        assert wf("validate", p["path"]).returncode == 0
        got += describe(Path(p["path"]))
    assert got == expected and len(expected) == len(whole) - 1


def test_split_a_recording_with_two_marks_gives_three_valid_bundles(desk: Display, tmp_path: Path) -> None:
    rec = record_marked(desk, tmp_path / "tasks")
    res = wf("split", rec.bundle, "--out", tmp_path / "parts", "--json")
    assert res.returncode == 0, res.stderr
    parts = json.loads(res.stdout)
    assert [p["reason"] for p in parts] == ["start", "mark", "mark"]
    got = []
    for p in parts:
        v = wf("validate", p["path"], "--json")
        assert v.returncode == 0 and json.loads(v.stdout)["warnings"] == [], v.stdout
        got += describe(Path(p["path"]))
        header = json.loads((Path(p["path"]) / "events.jsonl").read_text().splitlines()[0])
        assert header["source"]["bundle"] == "tasks" and header["source"]["first_event"] == p["first_event"]
    original = describe(rec.bundle)
    assert got == original
    assert [k for k, *_ in original] == ["click", "mark", "click", "type", "mark", "click", "click"]


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    with browser() as b:
        yield b


def test_view_shows_dead_steps_the_quality_breakdown_and_zooms_to_the_window(
        pair: tuple[Session, Session], chrome: Any, tmp_path: Path) -> None:
    noisy = pair[1].bundle
    page = tmp_path / "noisy.html"
    res = wf("view", noisy, "--out", page)
    assert res.returncode == 0, res.stderr
    w = open_page(chrome, page.as_uri())
    p = w.page
    assert p.locator(".card.dead").count() == DEAD_CLICKS
    assert p.locator("#quality-table tbody tr").count() == 7
    assert p.locator("button.goto.dead").count() == DEAD_CLICKS
    score = quality(noisy)["score"]
    assert p.locator("#quality-score").text_content() == f"{score:.2f}"
    p.locator("button.goto.dead").first.click()
    assert "DEAD" in (p.locator("#props").text_content() or "")
    # The fixture app is 420×320 of a 1280×800 screen: zoomed, the pictures show the window only.
    assert p.locator("#zoom").get_attribute("aria-pressed") == "true"
    assert p.locator("#shot-pre.zoomed").count() == 1
    box = p.locator("#shot-pre").bounding_box()
    assert box is not None and abs(box["width"] / box["height"] - 420 / 320) < 0.05
    p.keyboard.press("z")
    assert p.locator("#shot-pre.zoomed").count() == 0
    assert w.errors == [] and w.dialogs == []


def test_a_kept_replay_counts_in_the_quality_and_a_stale_one_does_not(pair: tuple[Session, Session],
                                                                      tmp_path: Path) -> None:
    import shutil
    import sys

    from xrig import FIXTURES

    bundle = tmp_path / "direct"
    shutil.copytree(pair[0].bundle, bundle)
    assert quality(bundle)["replay"] is None and quality(bundle)["components"]["replay"] is None
    state = tmp_path / "replayed.json"
    res = wf("replay", bundle, "--xvfb", "--launch",
             f"{sys.executable} {FIXTURES / 'app.py'} --state {state} --steady-caret", timeout=180)
    assert res.returncode == 0, res.stderr  # verified
    assert json.loads(state.read_text()) == pair[0].state
    q = quality(bundle)
    assert q["replay"]["status"] == "verified" and not q["replay"]["stale"]
    assert q["components"]["replay"] == 1.0
    events = bundle / "events.jsonl"
    events.write_bytes(events.read_bytes() + b'{"t": 999.0, "type": "mark", "label": "edited later"}\n')
    q = quality(bundle)
    assert q["replay"]["stale"] and q["components"]["replay"] is None

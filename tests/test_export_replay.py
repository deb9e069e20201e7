"""Export real sessions (real app, real input, real screenshots) and replay the exported script.

Two sources: a session written with BundleWriter from real screenshots while xdotool drives the fixture
app, and the same task captured by the real `wf record`.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from export_fixture import EXPECTED_STATE, TASK, launch_app, record_app_session
from PIL import Image
from xrig import WF, Display, wf

from wf.bundle.actions import load_actions
from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash

pytestmark = pytest.mark.display


def _record_with_wf(d: Display, out: Path, state: Path) -> dict[str, object]:
    """Run `wf record` while xdotool does the fixture task; stop it with SIGTERM."""
    launch_app(d, state)
    d.xdotool("mousemove", 600, 600)
    proc = subprocess.Popen([*WF, "record", str(out), "--task", TASK, "--fps", "10"], env=d.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    notice = b""
    deadline = time.monotonic() + 20
    while b"stop:" not in notice:  # the start notice names the stop key once capturing
        assert proc.poll() is None and time.monotonic() < deadline, notice.decode(errors="replace")
        if select.select([proc.stderr], [], [], 1)[0]:
            notice += os.read(proc.stderr.fileno(), 4096)
    try:
        for _ in range(2):
            d.xdotool("mousemove", 100, 40)
            time.sleep(0.6)
            d.xdotool("click", 1)
        d.xdotool("mousemove", 200, 235)
        time.sleep(0.6)
        d.xdotool("click", 1)
        time.sleep(0.3)
        d.xdotool("type", "--delay", "60", "hi")
        d.xdotool("mousemove", 200, 285)
        time.sleep(0.6)
        d.xdotool("click", 4, "click", 4)
        time.sleep(0.6)
        d.xdotool("mousemove", 300, 80)
        time.sleep(0.6)
        d.xdotool("click", 3)
        time.sleep(0.8)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, (notice + err).decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return json.loads(state.read_text())


@pytest.fixture(scope="module", params=["writer", "wf-record"])
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            xdisplay: Display) -> tuple[Path, dict[str, object], str]:
    root = tmp_path_factory.mktemp("session")
    make = record_app_session if request.param == "writer" else _record_with_wf
    try:
        state = make(xdisplay, root / "bundle", root / "state.json")
    finally:
        xdisplay.kill_apps()
    return root / "bundle", state, request.param


def test_real_session_exports_every_step_with_the_recorded_pixels(
        session: tuple[Path, dict[str, object], str], tmp_path: Path) -> None:
    bundle, state, _ = session
    assert {k: state[k] for k in EXPECTED_STATE} == EXPECTED_STATE
    actions = [a for a in load_actions(Bundle.open(bundle)) if a.kind != "mark"]
    kinds = [a.kind for a in actions if a.kind not in ("wait", "move")]
    assert kinds == ["click", "click", "click", "type", "scroll", "click"], kinds

    res = wf("export", bundle, "--format", "parquet", "--out", tmp_path / "pq", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["steps"] == len(actions)
    table = pq.read_table(next((tmp_path / "pq" / "data").glob("*.parquet")))
    rows = table.to_pylist()
    assert [r["step"] for r in rows] == [a.index for a in actions]
    hashes = {ev.path: ev.hash for ev in Bundle.open(bundle).events() if isinstance(ev, Screen)}
    for r, a in zip(rows, actions, strict=True):
        for col, rel in (("image", a.pre_screen), ("post_image", a.post_screen)):
            assert rel is not None
            with Image.open(io.BytesIO(r[col]["bytes"])) as img:
                rgb = img.convert("RGB")
                # The hash the recorder computed from the captured pixels: the export decodes to them.
                assert frame_hash(rgb.tobytes(), *rgb.size) == hashes[rel]
                assert rgb.size == (1280, 800)
        assert r["window_title"] == "wf fixture"
        assert r["instruction"].startswith("Increment the counter")


def test_exported_script_reproduces_the_final_state(session: tuple[Path, dict[str, object], str],
                                                    tmp_path: Path, new_display: Callable[..., Display]) -> None:
    bundle, recorded, kind = session
    coords = {"writer": "pixels", "wf-record": "unit"}[kind]  # both systems, one replay per session
    res = wf("export", bundle, "--format", "pyautogui", "--coords", coords, "--out", tmp_path / "py")
    assert res.returncode == 0, res.stderr
    (script,) = (tmp_path / "py").glob("*.py")

    d = new_display()
    state = tmp_path / "state.json"
    launch_app(d, state)
    before = json.loads(state.read_text())
    assert before["counter"] == 0 and before["text"] == ""
    run = subprocess.run([sys.executable, str(script)], env=d.env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    deadline = time.monotonic() + 5
    final: dict[str, object] = {}
    while time.monotonic() < deadline:
        final = json.loads(state.read_text())
        if all(final[k] == recorded[k] for k in EXPECTED_STATE):
            break
        time.sleep(0.05)
    assert {k: final[k] for k in EXPECTED_STATE} == {k: recorded[k] for k in EXPECTED_STATE}

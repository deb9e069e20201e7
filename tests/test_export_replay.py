"""Export a real session (real app, real input, real screenshots) and replay the exported script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from export_fixture import EXPECTED_STATE, launch_app, record_app_session
from PIL import Image
from xrig import Display, wf

from wf.bundle.actions import load_actions
from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash

pytestmark = pytest.mark.display


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, xdisplay: Display) -> tuple[Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("session")
    try:
        state = record_app_session(xdisplay, root / "bundle", root / "state.json")
    finally:
        xdisplay.kill_apps()
    return root / "bundle", state


def test_real_session_exports_every_step_with_the_recorded_pixels(session: tuple[Path, dict[str, object]],
                                                                  tmp_path: Path) -> None:
    bundle, state = session
    assert {k: state[k] for k in EXPECTED_STATE} == EXPECTED_STATE
    actions = [a for a in load_actions(Bundle.open(bundle)) if a.kind != "mark"]
    assert [a.kind for a in actions if a.kind != "wait"][:4] == ["click", "click", "click", "type"]

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


@pytest.mark.parametrize("coords", ["pixels", "unit"])
def test_exported_script_reproduces_the_final_state(session: tuple[Path, dict[str, object]], tmp_path: Path,
                                                    new_display: Callable[..., Display], coords: str) -> None:
    bundle, recorded = session
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

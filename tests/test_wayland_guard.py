"""The Wayland guard, wired (issue 20): `wf record` and `wf replay` refuse a Wayland session (exit 3) unless
--allow-xwayland, and a bundle recorded anyway says "X clients only" in its header, `wf inspect`, `wf view`
and the `wf export` manifest. Real Xvfb (with the variables a Wayland session exports set over it), real
`wf` subprocesses, and one real weston + Xwayland."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from wayland_rig import compositor
from xrig import WF, Display, wf

from wf.bundle.events import X_CLIENTS_ONLY_NOTE
from wf.bundle.reader import Bundle

pytestmark = pytest.mark.display

WAYLAND = {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}


MOVE_AND_CLICK = (("mousemove", "200", "150", "click", "1"),)


def record_with_a_click(env: dict[str, str], out: Path, *args: str,
                        inject: tuple[tuple[str, ...], ...] = MOVE_AND_CLICK) -> subprocess.CompletedProcess[str]:
    """`wf record OUT --duration 3 args`, with ``inject`` (xdotool commands) run once it is capturing."""
    ready = out.with_name(out.name + ".ready")
    proc = subprocess.Popen([*WF, "record", str(out), "--duration", "3", "--ready-file", str(ready), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if ready.exists():
        for cmd in inject:
            subprocess.run(["xdotool", *cmd], env=env, check=True, timeout=30)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def x_clients_bundle(xdisplay: Display, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A bundle recorded with --allow-xwayland under Xvfb with the Wayland variables set, and its stderr."""
    out = tmp_path_factory.mktemp("xwl") / "b"
    res = record_with_a_click(xdisplay.env(**WAYLAND), out, "--allow-xwayland")
    assert res.returncode == 0, res.stderr
    return out, res.stderr


# -- wf record ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variables", [WAYLAND, {"WAYLAND_DISPLAY": "wayland-0"}, {"XDG_SESSION_TYPE": "wayland"}])
def test_record_refuses_a_wayland_session_before_out_exists(xdisplay: Display, tmp_path: Path,
                                                            variables: dict[str, str]) -> None:
    out = tmp_path / "b"
    res = wf("record", out, "--duration", "1", env=xdisplay.env(**variables))
    assert res.returncode == 3, res.stderr
    assert not out.exists()
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("wf: error: this is a Wayland session (") and "Traceback" \
        not in res.stderr, res.stderr
    for name, value in variables.items():
        assert f"{name}={value}" in lines[0]
    assert "native Wayland windows would be missing" in lines[0] and "black" in lines[0]
    assert "X11 session" in lines[1] and "--allow-xwayland" in lines[1]


def test_an_empty_out_stays_untouched_when_refused(xdisplay: Display, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir(mode=0o755)
    res = wf("record", out, "--duration", "1", env=xdisplay.env(**WAYLAND))
    assert res.returncode == 3 and list(out.iterdir()) == [] and out.stat().st_mode & 0o777 == 0o755


def test_allow_xwayland_records_and_marks_the_bundle(x_clients_bundle: tuple[Path, str]) -> None:
    out, stderr = x_clients_bundle
    b = Bundle.open(out)
    assert b.header.platform.x_clients_only is True
    assert any(type(e).__name__ == "MouseDown" for e in b.events())  # it did record the X input
    notice = [line for line in stderr.splitlines() if "--allow-xwayland" in line]
    assert len(notice) == 1 and "X clients only" in notice[0] and "black" in notice[0], stderr
    assert "WAYLAND_DISPLAY=wayland-0" in notice[0]
    assert wf("validate", out).returncode == 0


def test_the_notice_is_given_even_with_quiet(xdisplay: Display, tmp_path: Path) -> None:
    res = wf("record", tmp_path / "q", "--duration", "0.5", "--quiet", "--allow-xwayland",
             env=xdisplay.env(WAYLAND_DISPLAY="wayland-0"))
    assert res.returncode == 0, res.stderr
    assert "X clients only" in res.stderr and "recording to" not in res.stderr


def test_without_the_variables_nothing_changes(xdisplay: Display, tmp_path: Path) -> None:
    out = tmp_path / "x11"
    res = record_with_a_click(xdisplay.env(), out, "--allow-xwayland")  # the flag alone changes nothing
    assert res.returncode == 0, res.stderr
    assert "Wayland" not in res.stderr and "X clients only" not in res.stderr
    assert Bundle.open(out).header.platform.x_clients_only is False
    res = wf("inspect", out, "--json")
    data = json.loads(res.stdout)
    assert data["x_clients_only"] is False and X_CLIENTS_ONLY_NOTE not in data["warnings"]
    assert "X clients only" not in wf("inspect", out).stdout


# -- wf inspect, wf view, wf export ---------------------------------------------------------------------------

def test_inspect_says_x_clients_only(x_clients_bundle: tuple[Path, str]) -> None:
    out, _ = x_clients_bundle
    res = wf("inspect", out, "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["x_clients_only"] is True and data["platform"]["x_clients_only"] is True
    assert X_CLIENTS_ONLY_NOTE in data["warnings"]
    res = wf("inspect", out, env={**os.environ, "COLUMNS": "250"})
    assert res.returncode == 0, res.stderr
    assert "X clients only" in res.stdout  # the platform row
    assert "warning" in res.stderr and "X clients only" in res.stderr


def test_view_has_the_banner(x_clients_bundle: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = x_clients_bundle
    page = tmp_path / "v.html"
    res = wf("view", out, "--out", page)
    assert res.returncode == 0, res.stderr
    html = page.read_text()
    assert 'id="x-clients-only"' in html and "recorded through XWayland" in html
    assert 'id="meta-platform"' in html and "<b>X clients only</b>" in html


def test_view_of_an_x11_bundle_has_no_banner(tmp_path: Path) -> None:
    page = tmp_path / "v.html"
    res = wf("view", Path(__file__).parent.parent / "fixtures" / "samples" / "valid", "--out", page)
    assert res.returncode == 0, res.stderr
    html = page.read_text()
    assert 'id="x-clients-only"' not in html and 'id="meta-platform"' in html and "X clients only" not in html


def test_export_manifest_carries_the_flag(x_clients_bundle: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = x_clients_bundle
    plain = Path(__file__).parent.parent / "fixtures" / "samples" / "valid"
    res = wf("export", out, plain, "--format", "pyautogui", "--out", tmp_path / "e")
    assert res.returncode == 0, res.stderr
    manifest = json.loads((tmp_path / "e" / "manifest.json").read_text())
    flags = {Path(b["path"]).name: b["x_clients_only"] for b in manifest["bundles"]}
    assert flags == {"b": True, "valid": False}
    entry = next(b for b in manifest["bundles"] if b["x_clients_only"])
    assert X_CLIENTS_ONLY_NOTE in entry["warnings"] and "X clients only" in res.stderr


# -- wf replay ------------------------------------------------------------------------------------------------

def test_replay_refuses_a_live_wayland_display(x_clients_bundle: tuple[Path, str],
                                               new_display: Callable[..., Display]) -> None:
    out, _ = x_clients_bundle
    live = new_display()
    res = wf("replay", out, "--no-save", env=live.env(WAYLAND_DISPLAY="wayland-0"))
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and "Wayland session (WAYLAND_DISPLAY=wayland-0)" in lines[0] and "XTest" in lines[0]
    assert "--xvfb" in lines[1] and "--allow-xwayland" in lines[1]
    assert not (out / "replays").exists()


def test_replay_with_xvfb_is_not_guarded(x_clients_bundle: tuple[Path, str], xdisplay: Display) -> None:
    out, _ = x_clients_bundle
    res = wf("replay", out, "--xvfb", "--no-save", "--json", env=xdisplay.env(**WAYLAND))
    assert res.returncode != 3 and "Wayland session" not in res.stderr, res.stderr
    assert json.loads(res.stdout)["verdict"]["status"] in ("verified", "unverified", "failed")


def test_replay_onto_a_live_wayland_display_with_allow_xwayland_warns(x_clients_bundle: tuple[Path, str],
                                                                      new_display: Callable[..., Display]) -> None:
    out, _ = x_clients_bundle
    live = new_display()
    res = wf("replay", out, "--no-save", "--allow-xwayland", env=live.env(WAYLAND_DISPLAY="wayland-0"))
    assert res.returncode != 3, res.stderr
    assert "replayed onto a Wayland session's XWayland" in res.stderr and "only X clients" in res.stderr


# -- a real Xwayland ------------------------------------------------------------------------------------------

def test_a_real_xwayland_is_refused_and_recorded_as_x_clients_only(tmp_path: Path) -> None:
    with compositor("weston") as weston:
        # Only DISPLAY, as a script may have it: the X server itself (RandR output XWAYLAND0) gives it away.
        alone = {k: v for k, v in weston.env.items() if k != "WAYLAND_DISPLAY"}
        res = wf("record", tmp_path / "no", "--duration", "1", env=alone)
        assert res.returncode == 3 and "RandR output XWAYLAND0" in res.stderr, res.stderr
        assert not (tmp_path / "no").exists()
        out = tmp_path / "yes"
        # No pointer motion: Debian 12's Xwayland 22.1.9 segfaults on an XTest motion when the compositor's
        # seat has no pointer (headless weston has none); a click and a key at the current position work.
        res = record_with_a_click(weston.env, out, "--allow-xwayland", inject=(("click", "1"), ("key", "a")))
        assert res.returncode == 0, res.stderr
        assert "RandR output XWAYLAND0" in res.stderr and "X clients only" in res.stderr
        b = Bundle.open(out)
        assert b.header.platform.x_clients_only is True
        assert b.header.platform.display == f"x11 {weston.x_display}"
        kinds = {type(e).__name__ for e in b.events()}
        assert {"MouseDown", "KeyDown"} <= kinds, kinds  # XTest → Xwayland → X RECORD

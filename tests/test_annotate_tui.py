"""`wf annotate -i`: real key presses into the real textual app (pilot), and once in tmux as a terminal."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import orjson
import pytest
from annotate_fixture import TASK, make_bundle
from xrig import WF

from wf.bundle.annotation_log import load_annotations
from wf.bundle.reader import Bundle
from wf.cli.annotate_tui import AnnotateApp, open_files


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("tui") / "bundle")


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "b"
    shutil.copytree(pristine, dst)
    return dst


def records(bundle: Path) -> list[dict]:
    log = bundle / "annotations.jsonl"
    return [orjson.loads(x) for x in log.read_bytes().splitlines()] if log.exists() else []


def changes(bundle: Path) -> list[tuple[int | None, dict]]:
    """(step, what changed) per record, the part a person's keystrokes decide."""
    out = []
    for r in records(bundle):
        what = dict(r.get("set", {}))
        if "tags_add" in r:
            what["+tags"] = r["tags_add"]
        if "tags_remove" in r:
            what["-tags"] = r["tags_remove"]
        out.append((r.get("step"), what))
    return out


Script = Callable[[AnnotateApp, object], Awaitable[None]]


def drive(bundle: Path, script: Script, opened: list[Path] | None = None) -> AnnotateApp:
    """Run the app headless with textual's pilot and play ``script`` on it."""
    from wf.bundle.actions import load_actions

    b = Bundle.open(bundle)

    def opener(paths: Sequence[Path]) -> str:
        if opened is not None:
            opened.extend(paths)
        return f"opened {len(paths)}"

    app = AnnotateApp(b, load_actions(b), author="tui-tester", opener=opener)

    async def main() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            await script(app, pilot)
            await pilot.pause()

    asyncio.run(main())
    return app


def test_keys_drop_keep_and_edit_fields(bundle: Path) -> None:
    events_before = hashlib.sha256((bundle / "events.jsonl").read_bytes()).hexdigest()

    async def script(app: AnnotateApp, pilot) -> None:  # type: ignore[no-untyped-def]
        table = app.query_one("#steps")
        assert table.cursor_row == 0 and app.focused is table
        await pilot.press("d")  # drop step 0, move on to step 1
        assert table.cursor_row == 1
        await pilot.press("e", *"typed the greeting", "enter")  # note on step 1
        assert app.focused is table  # Enter saved and went back to the list
        await pilot.press("t", *"entry had focus", "enter")
        await pilot.press("l", *"greet", "enter")
        await pilot.press("e", *"discard me", "escape")  # Esc cancels: no record
        assert app.query_one("#note").value == "typed the greeting"
        await pilot.press("up", "k")  # step 0 kept after all; cursor moves to step 1
        await pilot.press("n")  # next unannotated: step 2
        assert table.cursor_row == 2
        await pilot.press("d")
        assert table.get_cell("2", "status") == "✗ dropped"
        assert table.get_cell("1", "status") == "✓ note thought label"

    drive(bundle, script)
    assert changes(bundle) == [
        (0, {"dropped": True}),
        (1, {"note": "typed the greeting"}),
        (1, {"thought": "entry had focus"}),
        (1, {"label": "greet"}),
        (0, {"dropped": False}),
        (2, {"dropped": True}),
    ]
    recs = records(bundle)
    assert {r["author"] for r in recs} == {"tui-tester"} and {r["via"] for r in recs} == {"tui"}
    ann = load_annotations(Bundle.open(bundle))
    assert ann.dropped == frozenset({2}) and ann.steps[1].thought == "entry had focus"
    assert hashlib.sha256((bundle / "events.jsonl").read_bytes()).hexdigest() == events_before
    assert stat.S_IMODE(os.stat(bundle / "annotations.jsonl").st_mode) == 0o600


def test_keys_episode_fields(bundle: Path) -> None:
    async def script(app: AnnotateApp, pilot) -> None:  # type: ignore[no-untyped-def]
        assert app.query_one("#task").value == TASK  # the recording's task is the starting point
        await pilot.press("T", "ctrl+u", *"Greet the fixture", "enter")
        await pilot.press("c", "c")  # unknown -> success -> failure
        await pilot.press("4", "4", "2")  # the repeated 4 appends nothing
        await pilot.press("0")  # clears the quality
        await pilot.press("g", *"demo, tk", "enter")
        await pilot.press("g", "ctrl+u", *"demo, slow", "enter")
        await pilot.press("T", "ctrl+u", "enter")  # empty: back to the recording's task

    drive(bundle, script)
    assert changes(bundle) == [
        (None, {"task": "Greet the fixture"}),
        (None, {"outcome": "success"}),
        (None, {"outcome": "failure"}),
        (None, {"quality": 4}),
        (None, {"quality": 2}),
        (None, {"quality": None}),
        (None, {"+tags": ["demo", "tk"]}),
        (None, {"+tags": ["slow"], "-tags": ["tk"]}),
        (None, {"task": None}),
    ]
    ann = load_annotations(Bundle.open(bundle))
    assert (ann.task, ann.outcome, ann.quality, ann.tags) == (TASK, "failure", None, ("demo", "slow"))


def test_open_screens_and_reviewed_navigation(bundle: Path) -> None:
    opened: list[Path] = []

    async def script(app: AnnotateApp, pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("o")
        for _ in range(len(app.actions)):
            await pilot.press("k")
        await pilot.press("n")  # everything reviewed: stays put and says so
        assert app.query_one("#steps").cursor_row == len(app.actions) - 1

    app = drive(bundle, script, opened)
    first = app.actions[0]
    assert opened == [bundle / first.pre_screen, bundle / first.post_screen]
    assert all(p.is_file() for p in opened)
    ann = load_annotations(Bundle.open(bundle))
    assert set(ann.steps) == {a.index for a in app.actions} and not ann.dropped


def test_refused_append_keeps_the_app_alive(bundle: Path) -> None:
    """Someone appends a record from a newer wf mid-session: the edit is refused, nothing is lost."""
    log = bundle / "annotations.jsonl"

    async def script(app: AnnotateApp, pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("d")
        log.write_bytes(log.read_bytes() + b'{"v": 99, "at": "x", "author": "future"}\n')
        before = log.read_bytes()
        await pilot.press("d", "e", *"still typing", "enter")
        assert log.read_bytes() == before
        assert app.is_running and app.query_one("#steps").cursor_row == 1  # refused drop did not advance

    drive(bundle, script)
    assert changes(bundle)[0] == (0, {"dropped": True}) and len(records(bundle)) == 2


def test_open_files_uses_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "seen.txt"
    viewer = tmp_path / "viewer"
    viewer.write_text(f'#!/bin/sh\necho "$@" >> {seen}\n')
    viewer.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(viewer))
    pics = [tmp_path / "a.png", tmp_path / "b b.png"]
    assert "opened 2 screen(s)" in open_files(pics)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not seen.exists() or len(seen.read_text().splitlines()) < 2):
        time.sleep(0.05)
    assert sorted(seen.read_text().splitlines()) == sorted(map(str, pics))

    monkeypatch.delenv("BROWSER")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "no image viewer here" in open_files(pics) and str(pics[0]) in open_files(pics)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_interactive_in_a_plain_terminal(bundle: Path, tmp_path: Path) -> None:
    """`wf annotate -i` in tmux (a terminal as over SSH): keystrokes in, records out."""
    sock = f"wf-annotate-{os.getpid()}"
    cmd = " ".join([*WF, "annotate", str(bundle), "-i", "--author", "tmux-user"])
    env = {**os.environ, "TERM": "xterm-256color"}
    tmux = ["tmux", "-L", sock]
    subprocess.run([*tmux, "new-session", "-d", "-s", "a", "-x", "120", "-y", "35", cmd], env=env, check=True)
    try:
        def screen() -> str:
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", "a"], capture_output=True,
                                  text=True).stdout

        deadline = time.monotonic() + 30
        while "next unannotated" not in screen():
            assert time.monotonic() < deadline, screen()
            time.sleep(0.2)
        keys = [["d"], ["e"], ["-l", "seen over ssh"], ["Enter"], ["c"], ["q"]]
        for k in keys:
            subprocess.run([*tmux, "send-keys", "-t", "a", *k], check=True)
            time.sleep(0.2)
        deadline = time.monotonic() + 15
        while subprocess.run([*tmux, "has-session", "-t", "a"], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, screen()
            time.sleep(0.2)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert changes(bundle) == [(0, {"dropped": True}), (1, {"note": "seen over ssh"}),
                               (None, {"outcome": "success"})]
    assert {r["author"] for r in records(bundle)} == {"tmux-user"}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))

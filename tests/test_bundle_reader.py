"""The reader on good and bad bundles, through the library and through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from xrig import FIXTURES, wf

from wf.bundle.errors import BundleError
from wf.bundle.events import KeyDown, MouseDown, Screen, Stop
from wf.bundle.reader import Bundle

SAMPLES = FIXTURES / "samples"


def copy_valid(tmp_path: Path) -> Path:
    dst = tmp_path / "b"
    shutil.copytree(SAMPLES / "valid", dst)
    return dst


def lines_of(bundle: Path) -> list[str]:
    return (bundle / "events.jsonl").read_text().splitlines()


def rewrite(bundle: Path, lines: list[str]) -> None:
    (bundle / "events.jsonl").write_text("\n".join(lines) + "\n")


def test_valid_sample_reads_typed_events() -> None:
    b = Bundle.open(SAMPLES / "valid")
    events = list(b.events())
    assert b.header.task == "Click the box, type Hi! and scroll"
    assert isinstance(events[-1], Stop) and events[-1].dropped == 0
    downs = [e for e in events if isinstance(e, MouseDown)]
    assert [(d.x, d.y, d.button) for d in downs] == [(8, 6, "left")]
    typed = "".join(e.char or "" for e in events if isinstance(e, KeyDown))
    assert typed == "HI!"
    assert all(b.screen_path(e.path).is_file() for e in events if isinstance(e, Screen))


def test_truncated_last_line_is_ignored_with_warning() -> None:
    b = Bundle.open(SAMPLES / "truncated")
    with pytest.warns(UserWarning, match="truncated"):
        events = list(b.events())
    assert not isinstance(events[-1], Stop)
    assert b.warnings and "truncated" in b.warnings[0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ls: ls[:3] + ["{not json"] + ls[3:], "corrupt JSON"),
        (lambda ls: ls[:3] + ["[1, 2]"] + ls[3:], "expected an event object"),
        (lambda ls: ls[1:], "missing header"),
        (lambda ls: [ls[0].replace('"version":1', '"version":2')] + ls[1:], "version 2 is not supported"),
        (lambda ls: [ls[0].replace('"version":1', '"version":"1"')] + ls[1:], "must be an integer"),
        (lambda ls: ls[:3] + ['{"t": -1.0, "type": "mouse_move", "x": 1, "y": 1}'] + ls[3:], "negative time"),
        (lambda ls: ls + ['{"t": 0.5, "type": "mouse_move", "x": 1, "y": 1}'], "time goes backwards"),
        (lambda ls: ls[:3] + ['{"t": 0.1, "type": "mouse_down", "x": 1, "y": 1, "button": "thumb"}'] + ls[3:],
         "button"),
        (lambda ls: ls[:3] + ['{"t": 0.1, "type": "mouse_move", "x": "1", "y": 1}'] + ls[3:], "field 'x'"),
        (lambda ls: ls[:3] + ['{"t": 0.1, "x": 1}'] + ls[3:], "no 'type'"),
        (lambda ls: ls[:3] + [""] + ls[3:], "empty line"),
    ],
)
def test_bad_lines_are_named_with_file_and_line(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    b = copy_valid(tmp_path)
    rewrite(b, mutate(lines_of(b)))
    with pytest.raises(BundleError, match=message) as info:
        list(Bundle.open(b).events())
    assert "events.jsonl" in info.value.message
    res = wf("validate", b)
    assert res.returncode == 2, res.stderr
    assert message.split()[0].strip("'") in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 2


def test_unknown_event_types_are_skipped(tmp_path: Path) -> None:
    b = copy_valid(tmp_path)
    ls = lines_of(b)
    rewrite(b, ls[:3] + ['{"t": 0.1, "type": "gaze", "x": 1, "y": 2}'] + ls[3:])
    assert len(list(Bundle.open(b).events())) == len(ls) - 1


def test_path_escape_via_dotdot_absolute_and_symlink(tmp_path: Path) -> None:
    assert wf("validate", SAMPLES / "path-escape").returncode == 2
    b = copy_valid(tmp_path)
    ls = lines_of(b)
    rewrite(b, [ls[0], ls[1].replace('"path":"screens/', '"path":"/etc/')] + ls[2:])
    assert wf("inspect", b).returncode == 2
    # A symlink that leads out of the bundle is caught when the file is resolved.
    b2 = copy_valid(tmp_path / "two")
    victim = next((b2 / "screens").iterdir())
    outside = tmp_path / "outside.png"
    shutil.copy(victim, outside)
    victim.unlink()
    os.symlink(outside, victim)
    res = wf("validate", b2)
    assert res.returncode == 1 and "outside the bundle" in res.stderr


def test_empty_dir_file_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    for target, text in [("empty", "no events.jsonl"), ("file", "is a file"), ("nope", "no such bundle")]:
        res = wf("inspect", tmp_path / target)
        assert res.returncode == 2 and text in res.stderr, res.stderr


def test_validate_finds_missing_and_altered_screens(tmp_path: Path) -> None:
    assert wf("validate", SAMPLES / "missing-screen").returncode == 1
    b = copy_valid(tmp_path)
    victim = sorted((b / "screens").iterdir())[0]
    other = sorted((b / "screens").iterdir())[1]
    shutil.copy(other, victim)  # a valid PNG with the wrong pixels
    res = wf("validate", b, "--json")
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert not report["ok"] and any("expected" in d["message"] for d in report["defects"])


def test_inspect_json_summary() -> None:
    res = wf("inspect", SAMPLES / "valid", "--json")
    assert res.returncode == 0, res.stderr
    s = json.loads(res.stdout)
    assert (s["version"], s["minor"]) == (1, 0)  # a version-1.0 sample: no `minor` in its header
    assert s["duration"] == 2.5
    assert s["counts"]["key_down"] == 4 and s["counts"]["scroll"] == 1 and s["counts"]["stop"] == 1
    assert s["screens"] == 2 and s["screen_events"] == 4
    assert s["bytes"] > 0 and s["task"].startswith("Click")
    human = wf("inspect", SAMPLES / "valid")
    assert human.returncode == 0 and "key_down" in human.stdout and "v1.0" in human.stdout


def test_reading_never_rewrites_the_bundle(tmp_path: Path) -> None:
    b = copy_valid(tmp_path)
    before = {p: p.read_bytes() for p in b.rglob("*") if p.is_file()}
    for cmd in ("validate", "inspect"):
        wf(cmd, b)
    assert before == {p: p.read_bytes() for p in b.rglob("*") if p.is_file()}

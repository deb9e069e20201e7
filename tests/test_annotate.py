"""`wf annotate` end to end on a real bundle: append, fold, import, validation, corrupt and newer logs."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import orjson
import pytest
from annotate_fixture import TASK, make_bundle
from xrig import wf

from wf.bundle.annotation_log import ANNOTATION_VERSION, NewerAnnotationsError, annotate, load_annotations
from wf.bundle.annotations import Change, annotation_rows
from wf.bundle.errors import BadInput
from wf.bundle.reader import Bundle


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("annotate") / "bundle")


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy per test (copying is cheaper than writing screens again)."""
    import shutil

    dst = tmp_path / "b"
    shutil.copytree(pristine, dst)
    return dst


@pytest.fixture(scope="module")
def n_actions(pristine: Path) -> int:
    from wf.bundle.actions import load_actions

    n = len(load_actions(Bundle.open(pristine)))
    assert n >= 4, "the fixture bundle should reduce to several actions"
    return n


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_lines(bundle: Path) -> list[dict]:
    return [orjson.loads(line) for line in (bundle / "annotations.jsonl").read_bytes().splitlines()]


def annotate_json(bundle: Path, *args: str, author: str = "alice") -> dict:
    res = wf("annotate", bundle, *args, "--author", author, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


# ---------------------------------------------------------------- the scriptable path, end to end


def test_annotate_steps_end_to_end(bundle: Path, n_actions: int) -> None:
    events_before = digest(bundle / "events.jsonl")
    fresh = annotate_json(bundle)
    assert fresh["task"] == TASK and not fresh["task_annotated"] and fresh["outcome"] == "unknown"
    assert fresh["records"] == 0 and not (bundle / "annotations.jsonl").exists()  # reading never writes

    annotate_json(bundle, "--task", "Add one and greet", "--outcome", "partial", "--tag", "demo",
                  "--tag", "tk", "--quality", "3")
    annotate_json(bundle, "--step", "1", "--note", "typed a greeting", "--thought", "the entry has focus")
    annotate_json(bundle, "--step", "0", "--step", str(n_actions - 1), "--drop", author="bob")
    annotate_json(bundle, "--step", "0", "--keep", "--label", "press Increment")
    eff = annotate_json(bundle, "--outcome", "success", "--untag", "tk")

    assert eff["task"] == "Add one and greet" and eff["task_annotated"]
    assert eff["outcome"] == "success"  # later wins
    assert eff["tags"] == ["demo"] and eff["quality"] == 3
    assert eff["dropped"] == [n_actions - 1]  # step 0 was dropped, then kept
    assert eff["steps"]["0"] == {"note": None, "thought": None, "label": "press Increment", "dropped": False}
    assert eff["steps"]["1"]["note"] == "typed a greeting"
    assert eff["steps"]["1"]["thought"] == "the entry has focus"
    assert eff["authors"] == ["alice", "bob"] and eff["records"] == 6

    # History is kept: every call appended, nothing rewritten; the raw recording is untouched.
    recs = log_lines(bundle)
    assert len(recs) == 6 and all(r["v"] == ANNOTATION_VERSION and r["at"].endswith("Z") for r in recs)
    assert [r.get("step") for r in recs] == [None, 1, 0, n_actions - 1, 0, None]
    assert recs[2]["set"] == {"dropped": True} and recs[2]["author"] == "bob"
    assert digest(bundle / "events.jsonl") == events_before
    assert stat.S_IMODE(os.stat(bundle / "annotations.jsonl").st_mode) == 0o600

    # The library sees the same fold; the rows for `wf inspect` name what matters.
    ann = load_annotations(Bundle.open(bundle))
    assert ann.dropped == frozenset({n_actions - 1})
    assert ann.to_json() == {**eff}
    rows = dict(annotation_rows(ann))
    assert rows["outcome"] == "success" and rows["instruction"] == "Add one and greet"
    assert rows["dropped steps"] == str(n_actions - 1) and rows["quality"] == "3/5"
    assert "typed a greeting" in rows["step 1"] and "press Increment" in rows["step 0"]
    orjson.dumps(ann.to_json())  # JSON-able


def test_clearing_fields_reverts_to_defaults(bundle: Path, n_actions: int) -> None:
    annotate_json(bundle, "--task", "Something else", "--step", "2", "--note", "x")
    eff = annotate_json(bundle, "--task", "", "--step", "2", "--note", "")
    assert eff["task"] == TASK and not eff["task_annotated"]  # back to the recording's task
    assert eff["steps"]["2"]["note"] is None  # still listed: the step was reviewed


def test_history_lists_every_record(bundle: Path) -> None:
    annotate_json(bundle, "--outcome", "failure")
    annotate_json(bundle, "--outcome", "success", author="carol")
    res = wf("annotate", bundle, "--history", "--json")
    assert res.returncode == 0, res.stderr
    hist = json.loads(res.stdout)
    assert [(h["line"], h["author"], h["set"]["outcome"]) for h in hist] == [
        (1, "alice", "failure"), (2, "carol", "success")]
    table = wf("annotate", bundle, "--history")
    assert table.returncode == 0 and "carol" in table.stdout


def test_author_defaults_to_user(bundle: Path) -> None:
    env = {**os.environ, "USER": "dora"}
    res = wf("annotate", bundle, "--outcome", "success", env=env)
    assert res.returncode == 0, res.stderr
    assert log_lines(bundle)[0]["author"] == "dora"
    assert "success" in res.stdout  # the effective annotation is printed as a table


# ---------------------------------------------------------------- validation: exit 2, nothing lost


@pytest.mark.parametrize("args, message", [
    (["--outcome", "great"], "'great' is not one of 'success', 'failure', 'partial', 'unknown'"),
    (["--quality", "0"], "--quality 0 is out of range"),
    (["--quality", "6"], "--quality 6 is out of range"),
    (["--note", "x"], "need --step"),
    (["--step", "1"], "--step needs something to set"),
    (["--step", "1", "--drop", "--keep"], "contradict"),
    (["--step", "-1", "--drop"], "out of range"),
    (["--step", "999", "--drop"], "step 999 is out of range"),
    (["--tag", " "], "tag must be a non-empty string"),
    (["--author", "", "--outcome", "success"], "--author must not be empty"),
])
def test_bad_options_exit_2_and_append_nothing(bundle: Path, n_actions: int, args: list[str],
                                               message: str) -> None:
    annotate(Bundle.open(bundle), [Change(values={"outcome": "partial"})], author="setup")
    before = (bundle / "annotations.jsonl").read_bytes()
    res = wf("annotate", bundle, *args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2  # one error line and its hint
    assert (bundle / "annotations.jsonl").read_bytes() == before


def test_step_range_names_the_action_count(bundle: Path, n_actions: int) -> None:
    res = wf("annotate", bundle, "--step", str(n_actions), "--note", "one too far")
    assert res.returncode == 2
    assert f"this bundle has {n_actions} actions: 0..{n_actions - 1}" in res.stderr
    assert not (bundle / "annotations.jsonl").exists()


def test_missing_bundle_is_a_clear_error(tmp_path: Path) -> None:
    res = wf("annotate", tmp_path / "nope", "--outcome", "success")
    assert res.returncode == 2 and "no such bundle" in res.stderr
    assert not (tmp_path / "nope").exists()


def test_library_refuses_out_of_range_steps(bundle: Path) -> None:
    b = Bundle.open(bundle)
    with pytest.raises(BadInput, match="step 5 is out of range"):
        annotate(b, [Change(values={"outcome": "success"}), Change(step=5, values={"note": "x"})],
                 author="t", n_actions=5)
    assert not b.annotations_path.exists()  # all or nothing: not even the episode change


# ---------------------------------------------------------------- corrupt and newer logs


def test_corrupt_lines_are_skipped_with_a_warning_and_never_rewritten(bundle: Path) -> None:
    annotate_json(bundle, "--outcome", "failure", "--tag", "a")
    log = bundle / "annotations.jsonl"
    with log.open("ab") as fh:
        fh.write(b'{"v": 1, "at": "x", "author": "m", "set": {"outcome": "succ\n')  # line 2: bad JSON
        fh.write(b'{"v": 1, "at": "x", "author": "m", "set": {"quality": 11}}\n')  # line 3: bad value
        fh.write(b'[1, 2]\n')  # line 4: not an object
        fh.write(b'{"v": 1, "at": "x", "author": "m", "set": {"outcome": "success"}}\n')  # line 5: good
        fh.write(b'{"v": 1, "at": "x", "author": "m", "set": {"outcome": "partial"')  # line 6: torn
    corrupt = log.read_bytes()

    res = wf("annotate", bundle, "--json")
    assert res.returncode == 0, res.stderr
    eff = json.loads(res.stdout)
    assert eff["outcome"] == "success" and eff["records"] == 2
    for n in (2, 3, 4, 6):
        assert f"annotations.jsonl:{n}: corrupt annotation record skipped" in res.stderr
    assert "annotations.jsonl:5" not in res.stderr
    assert "truncated last line" in res.stderr and "quality must be an integer from 1 to 5" in res.stderr
    assert log.read_bytes() == corrupt

    # Appending after a torn last line starts a fresh line: the torn one stays, ours is intact.
    eff = annotate_json(bundle, "--quality", "2")
    assert eff["quality"] == 2 and eff["outcome"] == "success" and eff["records"] == 3
    assert log.read_bytes().startswith(corrupt + b"\n{")
    assert any("annotations.jsonl:6: corrupt" in w for w in eff["warnings"])


def test_newer_record_is_a_clear_error_and_blocks_appends(bundle: Path) -> None:
    annotate_json(bundle, "--outcome", "failure")
    log = bundle / "annotations.jsonl"
    with log.open("ab") as fh:
        fh.write(orjson.dumps({"v": ANNOTATION_VERSION + 1, "at": "x", "author": "future",
                               "set": {"sentiment": 0.5}}) + b"\n")
    before = log.read_bytes()
    for args in ([], ["--outcome", "success"]):
        res = wf("annotate", bundle, *args)
        assert res.returncode == 2
        assert f"annotations.jsonl:2: annotation record of format version {ANNOTATION_VERSION + 1}" in res.stderr
        assert "upgrade wf" in res.stderr
    assert log.read_bytes() == before
    with pytest.raises(NewerAnnotationsError):
        load_annotations(Bundle.open(bundle))


def test_symlinked_log_is_refused(bundle: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes(b"")
    (bundle / "annotations.jsonl").symlink_to(outside)
    res = wf("annotate", bundle, "--outcome", "success")
    assert res.returncode in (2, 3) and "Traceback" not in res.stderr
    assert outside.read_bytes() == b""


# ---------------------------------------------------------------- --from batches


def test_import_batch(bundle: Path, tmp_path: Path, n_actions: int) -> None:
    batch = tmp_path / "model.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in [
        {"task": "Greet the fixture", "outcome": "success", "tags": ["model"]},
        {"step": 0, "label": "focus", "thought": "click Increment first", "author": "judge-1"},
        {"step": n_actions - 1, "dropped": True, "note": "stray right click"},
        # a full record (as copied from another bundle's log) is accepted too
        {"v": 1, "at": "2020-01-01T00:00:00Z", "author": "eve", "via": "cli", "step": 1,
         "set": {"note": "from another log"}},
    ]) + "\n\n")
    res = wf("annotate", bundle, "--from", batch, "--author", "importer", "--json")
    assert res.returncode == 0, res.stderr
    eff = json.loads(res.stdout)
    assert eff["task"] == "Greet the fixture" and eff["tags"] == ["model"]
    assert eff["dropped"] == [n_actions - 1] and eff["steps"]["0"]["label"] == "focus"
    recs = log_lines(bundle)
    assert [r["author"] for r in recs] == ["importer", "judge-1", "importer", "eve"]
    assert {r["via"] for r in recs} == {"import"}
    assert len({r["at"] for r in recs}) == 1 and recs[0]["at"] != "2020-01-01T00:00:00Z"


@pytest.mark.parametrize("bad, message", [
    ('{"step": 1, "note": "fine"}\n{"outcome": "meh"}\n', ":2: unknown outcome 'meh'"),
    ('{"step": 1, "note": "fine"}\n{"step": 999, "note": "far"}\n', "step 999 is out of range"),
    ('{"step": 1, "sentiment": "ok"}\n', ":1: unknown field 'sentiment'"),
    ('{"step": 1, "tags": ["x"]}\n', "tags belong to the episode"),
    ('{"step": 1, "note": "fine"}\n{"step": 2, "note": "cut\n', ":2: not valid JSON"),
    ('{"step": 1}\n', ":1: record changes nothing"),
    ('{"v": 9, "outcome": "success"}\n', "format version 9"),
    ('\n\n', "holds no annotation records"),
])
def test_import_is_all_or_nothing(bundle: Path, tmp_path: Path, n_actions: int, bad: str,
                                  message: str) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text(bad)
    res = wf("annotate", bundle, "--from", batch, "--outcome", "success")
    assert res.returncode == 2
    assert message in res.stderr, res.stderr
    assert not (bundle / "annotations.jsonl").exists()


def test_import_missing_file(bundle: Path, tmp_path: Path) -> None:
    res = wf("annotate", bundle, "--from", tmp_path / "none.jsonl")
    assert res.returncode == 2 and "no such file" in res.stderr


def test_interactive_needs_a_terminal(bundle: Path) -> None:
    res = wf("annotate", bundle, "-i")
    assert res.returncode == 2 and "interactive terminal" in res.stderr
    res = wf("annotate", bundle, "-i", "--outcome", "success")
    assert res.returncode == 2 and "does not combine" in res.stderr


# ---------------------------------------------------------------- downstream: export honours the fold


def test_export_leaves_dropped_steps_out(bundle: Path, tmp_path: Path, n_actions: int) -> None:
    annotate_json(bundle, "--task", "Greet the fixture", "--step", "1", "--thought", "type into the entry")
    annotate_json(bundle, "--step", "3", "--drop")
    for extra, want_dropped in (([], False), (["--include-dropped"], True)):
        out = tmp_path / f"out{len(extra)}"
        res = wf("export", bundle, "-f", "agentnet", "-o", out, *extra)
        assert res.returncode == 0, res.stderr
        (episode,) = [orjson.loads(x) for x in (out / "agentnet.jsonl").read_bytes().splitlines()]
        assert episode["instruction"] == "Greet the fixture"
        steps = {t["step"]: t for t in episode["traj"]}
        assert (3 in steps) is want_dropped
        assert steps[1]["value"]["thought"] == "type into the entry"
    assert len(log_lines(bundle)) == 3  # export only reads the log

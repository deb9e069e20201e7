"""Concurrent annotators: parallel processes append to one log while another reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from annotate_fixture import make_bundle
from xrig import WF

from wf.bundle.annotation_log import load_annotations
from wf.bundle.reader import Bundle

WRITERS = 6
BATCHES = 40

WRITER = """
import sys
from wf.bundle.annotation_log import annotate
from wf.bundle.annotations import Change
from wf.bundle.reader import Bundle
b = Bundle.open(sys.argv[1]); w = sys.argv[2]
for i in range(int(sys.argv[3])):
    # two records per call: they must land next to each other, whole
    annotate(b, [Change(values={"task": f"{w}-{i}" + "x" * 300}),
                 Change(step=i % 4, values={"note": f"{w}-{i}"})], author=w, n_actions=4)
"""

READER = """
import sys, time
from wf.bundle.annotation_log import load_annotations
from wf.bundle.reader import Bundle
b = Bundle.open(sys.argv[1]); deadline = time.monotonic() + 60; reads = 0
while time.monotonic() < deadline:
    ann = load_annotations(b)
    reads += 1
    if ann.warnings:
        print("WARN", ann.warnings); sys.exit(1)
    if ann.records >= int(sys.argv[2]):
        break
print(reads)
"""


def test_parallel_appends_never_interleave_or_get_lost(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b")
    total = WRITERS * BATCHES * 2
    reader = subprocess.Popen([sys.executable, "-c", READER, str(bundle), str(total)],
                              stdout=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(bundle), f"w{k}", str(BATCHES)])
               for k in range(WRITERS)]
    assert all(p.wait(timeout=120) == 0 for p in writers)
    out, _ = reader.communicate(timeout=120)
    assert reader.returncode == 0, out  # the reader never saw a torn or half-written batch
    assert int(out) >= 1

    lines = (bundle / "annotations.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""  # ends with a newline
    recs = [orjson.loads(line) for line in lines[:-1]]
    assert len(recs) == total
    seen: dict[str, list[int]] = {}
    for first, second in zip(recs[::2], recs[1::2], strict=True):  # every batch is contiguous
        w, i = first["set"]["task"].rstrip("x").split("-")
        assert second["set"]["note"] == f"{w}-{i}" and first["author"] == second["author"] == w
        seen.setdefault(w, []).append(int(i))
    assert seen == {f"w{k}": list(range(BATCHES)) for k in range(WRITERS)}  # each writer's order kept

    ann = load_annotations(Bundle.open(bundle))
    assert ann.records == total and not ann.warnings
    last = recs[-1]["set"]["note"]
    assert ann.steps[recs[-1]["step"]].note == last  # the fold's later-wins is file order


def test_parallel_cli_calls(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b")
    procs = [subprocess.Popen([*WF, "annotate", str(bundle), "--step", str(k), "--note", f"by {k}",
                               "--tag", f"t{k}", "--author", f"a{k}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for k in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ann = load_annotations(Bundle.open(bundle))
    assert ann.records == 8 and not ann.warnings
    assert {i: s.note for i, s in ann.steps.items()} == {k: f"by {k}" for k in range(4)}
    assert sorted(ann.tags) == ["t0", "t1", "t2", "t3"] and len(ann.authors) == 4

"""`--engine ray` on a real Ray cluster of this machine — a head and a second node, started with `ray start`
and stopped by ending exactly their processes — against the local engine: `wf export` and `wf redact`
write the same bytes (sha256 of every file), `wf verify` reaches the same verdicts, `wf.data.read_steps`
gives the Parquet export's rows.

Every Ray driver runs in a subprocess with the cluster's token in its environment (Ray reads its settings
once per process), as a user's `wf … --engine ray --address …` would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from export_fixture import header, synthetic_bundle
from ray_rig import RayCluster
from scale_kit import SIZE, copies, record_clicks, shift_pointer
from test_export import _stderr_on_a_tty, parquet_rows, tree_digest
from xrig import REPO, WF, Display

from wf.bundle.annotation_log import annotate
from wf.bundle.annotations import Change
from wf.bundle.events import MouseDown, MouseUp, Stop, Window
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter
from wf.export.pipeline import ExportOptions, export

pytestmark = pytest.mark.slow
SAMPLES = REPO / "fixtures" / "samples"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    saved = dict(os.environ)
    with RayCluster(nodes=2, cpus=1) as c:
        os.environ.update(c.env)  # for the drivers the tests start
        try:
            yield c
        finally:
            os.environ.clear()
            os.environ.update(saved)
    assert c.alive() == [], "the test cluster left processes running"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Nine bundles of different lengths (one annotated), a corrupt one and one whose screen is missing."""
    root = tmp_path_factory.mktemp("corpus")
    bundles = [synthetic_bundle(root / f"b{i}", 2 + i % 5, seed=i + 1) for i in range(9)]
    annotate(Bundle.open(bundles[4]), [Change(values={"task": "Click them", "outcome": "success"}),
                                       Change(step=1, values={"thought": "aim", "dropped": True})],
             n_actions=6, author="test")
    for name in ("corrupt", "missing-screen"):
        shutil.copytree(SAMPLES / name, root / name)
    return [*bundles[:3], root / "corrupt", *bundles[3:6], root / "missing-screen", *bundles[6:],
            dead_bundle(root / "dead")]


def dead_bundle(path: Path, steps: int = 4) -> Path:
    """Clicks after which the screen never changes: dead steps, a low quality score (wf.curate)."""
    w, h = 64, 48
    frame = bytes(range(256)) * (w * h * 3 // 256)
    with BundleWriter(path, header(w, h, "nothing happens", "2026-11-26T23:50:00+00:00")) as bw:
        bw.write(Window(t=0.0, title="dead", wm_class="Dead", width=w, height=h))
        for i in range(steps):
            bw.screen_event(float(i), frame, w, h, "pre" if i else "start")
            bw.write(MouseDown(t=i + 0.02, x=10, y=10, button="left"))
            bw.write(MouseUp(t=i + 0.05, x=10, y=10, button="left"))
        bw.screen_event(float(steps), frame, w, h, "stop")
        bw.write(Stop(t=steps + 0.01, reason="test", events=0, dropped=0, screens=steps + 1))
    return path


def wf_ray(*args: str | Path, address: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WF, *map(str, args), "--engine", "ray", "--address", address], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("fmt, extra", [
    ("parquet", ["--shard-size", "0.05"]),
    ("webdataset", ["--shard-size", "0.05", "--image-format", "webp", "--max-side", "32"]),
    ("adp", []),
    ("osworld", ["--include-dropped"]),
    ("agentnet", ["--drop-dead-steps", "--min-quality", "0.9"]),
])
def test_export_on_the_cluster_is_the_local_export_byte_for_byte(cluster: RayCluster, corpus: list[Path],
                                                                  tmp_path: Path, fmt: str,
                                                                  extra: list[str]) -> None:
    local = tmp_path / "local"
    res = subprocess.run([*WF, "export", *map(str, corpus), "-f", fmt, "-o", str(local), "--json", *extra],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr  # bundles skipped as invalid
    expected = json.loads(res.stdout)
    res = wf_ray("export", *corpus, "-f", fmt, "-o", tmp_path / "ray", "--json", *extra, address=cluster.address)
    assert res.returncode == 1, res.stderr
    manifest = json.loads(res.stdout)
    assert manifest == expected
    # The corrupt bundle is skipped; so is the one with a missing screen, unless --min-quality left it out
    # first (its score is low), as it does the bundle of dead clicks.
    filtering = "--min-quality" in extra
    assert [s["path"] for s in manifest["skipped"]] == [str(corpus[3])] + ([] if filtering else [str(corpus[7])])
    assert [f["path"] for f in manifest["filtered"]] == ([str(corpus[7]), str(corpus[-1])] if filtering else [])
    assert manifest["steps"] > 20
    assert tree_digest(tmp_path / "ray") == tree_digest(local)


def test_export_progress_is_drawn_on_a_terminal(cluster: RayCluster, corpus: list[Path], tmp_path: Path) -> None:
    code, err = _stderr_on_a_tty(["export", *map(str, corpus[:3]), "-f", "parquet", "-o", str(tmp_path / "p"),
                                  "--engine", "ray", "--address", cluster.address])
    assert code == 0
    assert "bundles ·" in err and "3/3" in err and "exported" in err


def test_read_steps_on_the_cluster_gives_the_parquet_rows(cluster: RayCluster, corpus: list[Path],
                                                          tmp_path: Path) -> None:
    export(corpus, ExportOptions(format="parquet", out=tmp_path / "pq"))
    script = textwrap.dedent("""
        import json, sys
        import pyarrow as pa, pyarrow.parquet as pq, ray
        import wf.data
        from wf.export.parquet import SCHEMA
        ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
        ds = wf.data.read_steps(sys.argv[3:])
        table = pa.concat_tables(ray.get(ds.to_arrow_refs()))
        rows = table.to_pylist()
        files = sorted(__import__("pathlib").Path(sys.argv[2]).glob("data/*.parquet"))
        expected = [r for f in files for r in pq.read_table(f).to_pylist()]
        first = wf.data.decode_image(rows[0]["image"])
        print(json.dumps({"rows": len(rows), "equal": rows == expected, "schema": table.schema.equals(SCHEMA),
                          "nodes": len(ray.nodes()), "image": list(first.size)}))
    """)
    res = subprocess.run([sys.executable, "-c", script, cluster.address, str(tmp_path / "pq"), *map(str, corpus)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {"rows": len(parquet_rows(tmp_path / "pq")), "equal": True, "schema": True, "nodes": 2,
                   "image": [64, 48]}


def test_redact_on_the_cluster_writes_the_local_bytes(cluster: RayCluster, corpus: list[Path],
                                                      tmp_path: Path) -> None:
    good = [c for c in corpus if c.name.startswith("b")][:4]
    spec = ["--scrub", "synthetic", "--mask-rect", "0,0,16,16", "--drop-steps", "1:2"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764547200"}
    res = subprocess.run([*WF, "redact", *map(str, good), *spec, "-o", str(tmp_path / "local"), "-j", "2"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([*WF, "redact", *map(str, good), *spec, "-o", str(tmp_path / "ray"), "--json",
                          "--engine", "ray", "--address", cluster.address], capture_output=True, text=True,
                         timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)
    assert [r["source"] for r in results] == [str(g) for g in good] and all(r["ok"] for r in results)
    assert all(r["report"]["proof"]["ok"] and r["report"]["texts_scrubbed"] for r in results)
    digest = tree_digest(tmp_path / "ray")
    assert digest == tree_digest(tmp_path / "local") and len(digest) > 4 * 3
    assert b"synthetic" not in (tmp_path / "ray" / good[0].name / "events.jsonl").read_bytes()


@pytest.mark.display
def test_verify_on_the_cluster_agrees_with_the_local_engine(cluster: RayCluster, new_display: object,
                                                            tmp_path: Path) -> None:
    d: Display = new_display(*SIZE)  # type: ignore[operator]
    src = record_clicks(d, tmp_path / "src")
    bundles = copies(src, tmp_path, 3)
    shift_pointer(bundles[1], 250)  # its clicks miss the button: the replay cannot match the recording
    args = [*map(str, bundles), "--json", "--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000"]
    local = subprocess.run([*WF, "verify", *args, "-j", "2"], capture_output=True, text=True, timeout=600)
    on_ray = wf_ray("verify", *args, address=cluster.address, timeout=600)
    assert local.returncode == on_ray.returncode == 1, local.stderr + on_ray.stderr
    a, b = json.loads(local.stdout), json.loads(on_ray.stdout)
    assert (a["engine"], a["nodes"], b["engine"], b["nodes"], b["slots"]) == ("local", 1, "ray", 2, 2)

    def verdicts(s: dict[str, object]) -> list[tuple[object, ...]]:
        return [(r["bundle"], r["status"], r["first_failing_step"], r["coverage"]) for r in s["rows"]]  # type: ignore

    assert verdicts(a) == verdicts(b)
    rows = verdicts(a)
    assert rows[0][1:] == rows[2][1:] == ("verified", None, 100.0)
    assert rows[1][1:3] == ("failed", 0)
    assert "screen" in a["rows"][1]["reason"]
    # Each run kept its report in every bundle, beside the other's.
    for bundle, ra, rb in zip(bundles, a["rows"], b["rows"], strict=True):
        kept = sorted((bundle / "replays").glob("*.json"))
        assert [k.relative_to(bundle).as_posix() for k in kept] == sorted([ra["kept"], rb["kept"]])
        report = json.loads(kept[-1].read_text())
        assert report["format"] == "wf-replay-report" and report["options"]["xvfb"] is True
    # The same verdicts as `wf replay` gives each bundle on its own.
    for bundle, row, code in ((bundles[0], rows[0], 0), (bundles[1], rows[1], 1)):
        alone = subprocess.run([*WF, "replay", str(bundle), "--xvfb", "--json", "--no-save", *args[-4:]],
                               capture_output=True, text=True, timeout=300)
        verdict = json.loads(alone.stdout)["verdict"]
        assert alone.returncode == code
        assert (verdict["status"], verdict["first_failed_step"], verdict["coverage"]["percent"]) == row[1:]


def test_a_local_ray_instance_is_started_and_stopped(corpus: list[Path], tmp_path: Path) -> None:
    """Without --address: a private instance of this machine, gone when the command ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    before = set(Path("/tmp").glob("wf-ray-*"))
    before_home = {Path.home() / ".ray"} if (Path.home() / ".ray").exists() else set()
    res = subprocess.run([*WF, "export", *map(str, corpus[:3]), "-f", "webdataset", "-o", str(tmp_path / "w"),
                          "--engine", "ray", "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["episodes"] == 3
    assert set(Path("/tmp").glob("wf-ray-*")) == before  # its temp dir is removed
    # …and so are its processes (their command lines name that temp dir).
    assert subprocess.run(["pgrep", "-f", "/tmp/wf-ray-"], capture_output=True, text=True).stdout.split() == []
    assert not (Path.home() / ".ray" / "auth_token").exists() or (Path.home() / ".ray") in before_home

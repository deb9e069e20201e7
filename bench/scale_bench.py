"""Scale: `wf verify` and `wf export` on the local engine and on a Ray cluster of 1 and 2 nodes (1 CPU each,
both on this 2-core machine, started with `ray start` by tests/ray_rig.py), on the same corpora, in one run.
Verify: copies of one real recorded session (the fixture app, 2 clicks, 640×400, its launch command in the
header), each replayed headless in its own Xvfb. Export: synthetic bundles with 1280×800 desktop-like
screens (bench/export_bench.py's), to Parquet (images as stored: I/O-bound) and to WebP (CPU-bound).
Every figure is the wall time of the real command (`wf … --engine ray --address …`), connection included;
"fixed" is the same command on one bundle of one step, so (time − fixed) / steps is the per-step cost and
its difference to the local engine's the per-step overhead Ray adds. ratio: speed relative to the local
engine with one job (higher is faster)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))  # the cluster rig and the recorded-session kit the tests use

from export_bench import _corpus  # noqa: E402
from ray_rig import RayCluster  # noqa: E402
from scale_kit import SIZE, copies, record_clicks  # noqa: E402
from xrig import display  # noqa: E402

WF = [sys.executable, "-m", "wf.cli"]
LOADED = ["--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000"]  # a shared machine


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    res = subprocess.run([*WF, *args], capture_output=True, text=True, timeout=3600, env=env)
    return time.perf_counter() - t0, res


def _export(bundles: list[Path], out: Path, extra: list[str], engine: list[str],
            env: dict[str, str] | None) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    secs, res = _run(["export", *map(str, bundles), "-f", "parquet", "-o", str(out), "--json", *extra, *engine], env)
    if res.returncode != 0:
        raise RuntimeError(f"export failed: {res.stderr[-2000:]}")
    steps = int(json.loads(res.stdout)["steps"])
    shutil.rmtree(out, ignore_errors=True)
    return secs, steps


def _verify(bundles: list[Path], engine: list[str], env: dict[str, str] | None) -> tuple[float, dict[str, object]]:
    secs, res = _run(["verify", *map(str, bundles), "--json", "--no-save", *LOADED, *engine], env)
    if res.returncode not in (0, 1, 4):
        raise RuntimeError(f"verify failed: {res.stderr[-2000:]}")
    summary = json.loads(res.stdout)
    if summary["errors"]:
        raise RuntimeError(f"verify could not replay: {summary['rows']}")
    return secs, summary


Setup = tuple[str, list[str], dict[str, str] | None]
LOCAL: list[Setup] = [("local --jobs 1", ["--jobs", "1"], None), ("local --jobs 2", ["--jobs", "2"], None)]


def _ray_setup(c: RayCluster) -> Setup:
    n = c.nodes
    return (f"ray, {n} node{'s' if n > 1 else ''} × 1 CPU", ["--engine", "ray", "--address", c.address],
            {**os.environ, **c.env})


class Corpora:
    def __init__(self, root: Path, quick: bool) -> None:
        n_verify = 4 if quick else 8
        n_bundles, per = (10, 50) if quick else (40, 50)
        with display(*SIZE) as d:
            src = record_clicks(d, root / "session")
        self.replays = copies(src, root / "verify", n_verify)
        self.export = _corpus(root / "export", n_bundles, per)
        self.tiny = _corpus(root / "tiny", 1, 1)
        self.webp = self.export[:4]
        self.out = root / "out"


def _measure(setup: Setup, c: Corpora, into: dict[str, dict[str, list[float]]]) -> None:
    name, engine, env = setup
    r = into.setdefault(name, {})
    r.setdefault("fixed", []).append(_export(c.tiny, c.out, [], engine, env)[0])
    secs, steps = _export(c.export, c.out, [], engine, env)
    r.setdefault("export", []).append(secs)
    r["export_steps"] = [steps]
    secs, steps = _export(c.webp, c.out, ["--image-format", "webp"], engine, env)
    r.setdefault("webp", []).append(secs)
    r["webp_steps"] = [steps]


def _measure_verify(setup: Setup, c: Corpora, into: dict[str, dict[str, list[float]]]) -> None:
    name, engine, env = setup
    secs, summary = _verify(c.replays, engine, env)
    rows = summary["rows"]
    assert isinstance(rows, list)
    r = into.setdefault(name, {})
    r.setdefault("verify", []).append(secs)
    r.setdefault("replay", []).extend(float(x["seconds"]) for x in rows)
    r["slots"] = [float(summary["slots"])]  # type: ignore[arg-type]


def run(quick: bool = False) -> list[dict[str, object]]:
    """Interleaved: while each cluster (1 node, then 2) is up, the local engine runs alternately with it, so
    the local figures (medians over both phases) were measured under the same load as the Ray ones."""
    repeats = 2 if quick else 3
    res: dict[str, dict[str, list[float]]] = {}
    pairs: list[str] = []  # the Ray setups measured
    with tempfile.TemporaryDirectory() as tmp:
        c = Corpora(Path(tmp), quick)
        for nodes in (1, 2):  # never both clusters at once: 2 cores
            with RayCluster(nodes=nodes, cpus=1) as cluster:
                ray = _ray_setup(cluster)
                for _ in range(repeats):
                    for setup in [*LOCAL, ray]:
                        _measure(setup, c, res)
                for setup in [*LOCAL, ray]:
                    _measure_verify(setup, c, res)
                pairs.append(ray[0])
    return _rows(res, pairs, repeats, len(c.replays))


def _med(v: list[float]) -> float:
    return statistics.median(v)


def _rows(res: dict[str, dict[str, list[float]]], pairs: list[str], repeats: int,
          n_verify: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    names = [s[0] for s in LOCAL] + pairs
    base = res["local --jobs 1"]
    for name in names:
        r = res[name]
        t = _med(r["verify"])
        rows.append({"group": "verify", "name": f"wf verify, {n_verify} replays: {name}",
                     "median": round(n_verify / t * 60, 1), "unit": "bundles/min",
                     "ratio": round(_med(base["verify"]) / t, 2), "runs": len(r["verify"]),
                     "notes": f"{t:.1f} s total; replay median {_med(r['replay']):.1f} s (app start "
                              f"included); {int(r['slots'][0])} at a time"})
    for key, label, unit_note in (("export", "parquet", "images as stored"), ("webp", "webp", "lossless WebP")):
        for name in names:
            r = res[name]
            t, steps = _med(r[key]), r[f"{key}_steps"][0]
            per_step = (t - _med(r["fixed"])) / steps * 1000
            rows.append({"group": "export", "name": f"wf export {label}, {int(steps):,} steps: {name}",
                         "median": round(steps / t, 1 if steps < 1000 else None), "unit": "steps/s",
                         "spread": f"{steps / max(r[key]):.0f}–{steps / min(r[key]):.0f}",
                         "ratio": round(_med(base[key]) / t, 2), "runs": len(r[key]),
                         "notes": f"{t:.1f} s; fixed {_med(r['fixed']):.1f} s; {per_step:.2f} ms/step after it "
                                  f"({unit_note})"})
    lr = base
    local_step = (_med(lr["export"]) - _med(lr["fixed"])) / lr["export_steps"][0]
    for name in pairs:
        r = res[name]
        ray_step = (_med(r["export"]) - _med(r["fixed"])) / r["export_steps"][0]
        rows.append({"group": "overhead", "name": f"Ray's cost per exported step (parquet): {name}",
                     "median": round((ray_step - local_step) * 1000, 3), "unit": "ms/step", "runs": repeats,
                     "notes": f"and {_med(r['fixed']) - _med(lr['fixed']):.1f} s once per command (joining the "
                              "cluster, starting the pipeline)"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)

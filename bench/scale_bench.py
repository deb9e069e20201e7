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
from collections.abc import Callable
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


def _setups(clusters: dict[int, RayCluster]) -> list[Setup]:
    out: list[Setup] = [("local --jobs 1", ["--jobs", "1"], None), ("local --jobs 2", ["--jobs", "2"], None)]
    for n, c in clusters.items():
        out.append((f"ray, {n} node{'s' if n > 1 else ''} × 1 CPU", ["--engine", "ray", "--address", c.address],
                    {**os.environ, **c.env}))
    return out


def _with_clusters(fn: Callable[[dict[int, RayCluster]], None]) -> None:
    """Run ``fn`` with a 1-node cluster, then a 2-node one (never both at once: 2 cores)."""
    for n in (1, 2):
        with RayCluster(nodes=n, cpus=1) as c:
            fn({n: c})


def run(quick: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    n_verify = 4 if quick else 8
    n_bundles, per = (10, 50) if quick else (40, 50)
    repeats = 2 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with display(*SIZE) as d:
            src = record_clicks(d, root / "session")
        replays = copies(src, root / "verify", n_verify)
        corpus = _corpus(root / "export", n_bundles, per)
        tiny = _corpus(root / "tiny", 1, 1)
        webp = corpus[:4]
        results: dict[str, dict[str, float]] = {}

        def measure(clusters: dict[int, RayCluster]) -> None:
            for name, engine, env in _setups(clusters):
                if name in results:
                    continue
                r = results[name] = {}
                # Medians of repeats (the machine is shared); the spread goes in the notes.
                fixed = [_export(tiny, root / "out", [], engine, env)[0] for _ in range(repeats)]
                runs = [_export(corpus, root / "out", [], engine, env) for _ in range(repeats)]
                webps = [_export(webp, root / "out", ["--image-format", "webp"], engine, env) for _ in range(2)]
                r["fixed"] = statistics.median(fixed)
                r["export"], r["export_steps"] = statistics.median(t for t, _ in runs), runs[0][1]
                r["export_min"], r["export_max"] = min(t for t, _ in runs), max(t for t, _ in runs)
                r["webp"], r["webp_steps"] = statistics.median(t for t, _ in webps), webps[0][1]
                secs, summary = _verify(replays, engine, env)
                r["verify"] = secs
                rows_ = summary["rows"]
                assert isinstance(rows_, list)
                r["replay_median"] = sorted(x["seconds"] for x in rows_)[len(rows_) // 2]
                r["slots"] = float(summary["slots"])  # type: ignore[arg-type]

        measure({})
        _with_clusters(measure)

    base = results["local --jobs 1"]
    for name, r in results.items():
        rows.append({"group": "verify", "name": f"wf verify, {n_verify} replays: {name}",
                     "median": round(n_verify / r["verify"] * 60, 1), "unit": "bundles/min",
                     "ratio": round(base["verify"] / r["verify"], 2), "runs": 1,
                     "notes": f"{r['verify']:.1f} s total; median replay {r['replay_median']:.1f} s; "
                              f"{int(r['slots'])} at a time"})
    for name, r in results.items():
        per_step = (r["export"] - r["fixed"]) / r["export_steps"] * 1000
        rows.append({"group": "export", "name": f"wf export parquet, {int(r['export_steps']):,} steps: {name}",
                     "median": round(r["export_steps"] / r["export"]), "unit": "steps/s",
                     "ratio": round(base["export"] / r["export"], 2),
                     "spread": f"{r['export_steps'] / r['export_max']:.0f}–{r['export_steps'] / r['export_min']:.0f}",
                     "runs": repeats,
                     "notes": f"{r['export']:.1f} s; fixed {r['fixed']:.1f} s; {per_step:.2f} ms/step after it"})
    for name, r in results.items():
        rows.append({"group": "export", "name": f"wf export webp, {int(r['webp_steps'])} steps: {name}",
                     "median": round(r["webp_steps"] / r["webp"], 1), "unit": "steps/s",
                     "ratio": round(base["webp"] / r["webp"], 2), "runs": 2,
                     "notes": f"{r['webp']:.1f} s (lossless WebP, CPU-bound)"})
    local_step = (base["export"] - base["fixed"]) / base["export_steps"]
    for name, r in results.items():
        if name.startswith("ray"):
            ray_step = (r["export"] - r["fixed"]) / r["export_steps"]
            rows.append({"group": "overhead", "name": f"Ray's cost per exported step: {name}",
                         "median": round((ray_step - local_step) * 1000, 3), "unit": "ms/step",
                         "runs": repeats, "notes": f"and {r['fixed'] - base['fixed']:.1f} s once per command "
                                             "(joining the cluster, starting the pipeline)"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)

#!/usr/bin/env python3
"""`make bench`: run every benchmark module in bench/ and rewrite docs/benchmarks.md.

Each module `bench/<name>_bench.py` exposes `run(quick: bool) -> list[dict]`; rows carry at least
`group`, `name`, `median`, `unit`, and optionally `spread`, `runs`, `peer`, `ratio`, `target`, `notes`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
RESULTS = HERE / "results"  # one JSON per module, so a partial run (--only) keeps the others' figures
sys.path.insert(0, str(HERE))

ORDER = ["record", "soak", "replay", "inspect", "export", "reliability"]


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30

    def ver(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"

    from importlib.metadata import version

    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; wf {version('wf')}; pynput {version('pynput')}; "
        f"mss {version('mss')}; pyautogui {version('pyautogui')}; Pillow {version('pillow')}",
        f"- Xvfb: {ver(['dpkg-query', '-W', '-f', '${Version}', 'xvfb'])}; "
        f"xdotool: {ver(['dpkg-query', '-W', '-f', '${Version}', 'xdotool'])}; cnee: {ver(['cnee', '--version'])}; "
        f"xmacro: {ver(['dpkg-query', '-W', '-f', '${Version}', 'xmacro'])}",
    ]


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        v = f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v).replace("|", "\\|")


def table(rows: list[dict[str, object]]) -> list[str]:
    cols = ["name", "median", "p50", "p95", "p99", "max", "unit", "spread", "runs", "rate", "peer", "ratio", "target",
            "notes"]
    present = [c for c in cols if any(r.get(c) not in (None, "") for r in rows)]
    lines = ["| " + " | ".join(present) + " |", "|" + "---|" * len(present)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c)) for c in present) + " |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    ap.add_argument("--only", nargs="*", help="module names (record, replay, inspect, export, …)")
    ap.add_argument("--soak", action="store_true", help="include the long soak run")
    ap.add_argument("--no-write", action="store_true", help="print, don't rewrite docs/benchmarks.md")
    ap.add_argument("--render", action="store_true", help="run nothing: rewrite the doc from bench/results/")
    args = ap.parse_args()
    if args.soak:
        os.environ["WF_BENCH_SOAK"] = "1"
    names = [p.stem.removesuffix("_bench") for p in sorted(HERE.glob("*_bench.py"))]
    names.sort(key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))
    if args.only:
        names = [n for n in names if n in args.only]
    if args.render:
        names = []
    failed = 0
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        t0 = time.monotonic()
        print(f"== bench {name}", file=sys.stderr, flush=True)
        try:
            mod = importlib.import_module(f"{name}_bench")
            rows = mod.run(quick=args.quick)
        except Exception:
            failed += 1
            traceback.print_exc()
            continue
        if rows is None:  # the module does not run in this mode (the soak outside `make soak`): keep its figures
            print(f"   skipped: {name} keeps its last figures", file=sys.stderr)
            continue
        result = {"name": name, "doc": (mod.__doc__ or "").strip(), "rows": rows, "quick": args.quick,
                  "seconds": round(time.monotonic() - t0),
                  "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
        for r in rows:
            print(f"  {r.get('name')}: {r.get('median')} {r.get('unit', '')} {r.get('ratio', '')}", file=sys.stderr)
    sections: list[str] = []
    done = sorted((p.stem for p in RESULTS.glob("*.json")),
                  key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in done:
        res = json.loads((RESULTS / f"{name}.json").read_text())
        if "rows" not in res:  # a probe's raw output kept beside the modules' results (wayland.json)
            continue
        mode = " (quick mode)" if res.get("quick") else ""
        sections += [f"## {name}", "", res["doc"], "", *table(res["rows"]), "",
                     f"_Measured {res['at']}{mode}; {res['seconds']} s to run._", ""]
    text = "\n".join([
        "# wf benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`, every module; `--only NAME` re-runs one and keeps the "
        "others' last figures); do not edit by hand. Figures are medians over repeated runs on this machine, "
        "with the spread (min–max); peers run in the same invocation, interleaved, and ratios are wf ÷ peer. "
        "The machine is noisy (2 shared cores): read ratios, not absolutes.",
        "",
        *machine(),
        "",
        *sections,
    ])
    if args.no_write:
        print(text)
    else:
        extra = HERE.parent / "docs" / "benchmarks-notes.md"
        if extra.exists():
            text += "\n" + extra.read_text()
        DOC.write_text(text + "\n")
        print(f"wrote {DOC}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

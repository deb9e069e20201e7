"""Heap profile of `wf`: run it under tracemalloc, or compare the snapshots such a run dumped.

    WF_HEAP_DIR=DIR [WF_HEAP_EVERY=600] python bench/heapwrap.py record OUT ...   # wf, snapshots in DIR
    python bench/heapwrap.py compare DIR [N]                                       # growth: snapshot N → last

`make soak` with WF_SOAK_HEAP=1 runs the soak this way. tracemalloc's own bookkeeping inflates RSS, so RSS
from such a run is not a figure; the snapshots say which allocation sites grow (how the encoder's
per-frame bookkeeping was found, docs/benchmarks.md).
"""

from __future__ import annotations

import glob
import os
import runpy
import sys
import threading
import time
import tracemalloc


def _dump_every(out: str, every: float) -> None:
    i = 0
    while True:
        time.sleep(every)
        tracemalloc.take_snapshot().dump(os.path.join(out, f"snap{i:03d}.pickle"))
        i += 1


def compare(directory: str, first: int = 0, top: int = 12) -> None:
    snaps = sorted(glob.glob(os.path.join(directory, "snap*.pickle")))
    if len(snaps) < 2:
        sys.exit(f"need two snapshots in {directory}, found {len(snaps)}")
    skip = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    a = tracemalloc.Snapshot.load(snaps[first]).filter_traces(skip)
    b = tracemalloc.Snapshot.load(snaps[-1]).filter_traces(skip)
    total = [sum(s.size for s in x.statistics("filename")) / 1e6 for x in (a, b)]
    print(f"{snaps[first]} -> {snaps[-1]}: traced {total[0]:.2f} -> {total[1]:.2f} MB")
    for st in b.compare_to(a, "traceback")[:top]:
        print(f"{st.size_diff / 1024:+9.1f} KiB  {st.count_diff:+7d} blocks  (now {st.size / 1024:.0f} KiB)")
        for line in st.traceback.format()[-6:]:
            print("      ", line)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        compare(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
        return
    tracemalloc.start(int(os.environ.get("WF_HEAP_FRAMES", "8")))
    every = float(os.environ.get("WF_HEAP_EVERY", "600"))
    threading.Thread(target=_dump_every, args=(os.environ["WF_HEAP_DIR"], every), daemon=True).start()
    sys.argv = ["wf", *sys.argv[1:]]
    runpy.run_module("wf.cli", run_name="__main__")


if __name__ == "__main__":
    main()

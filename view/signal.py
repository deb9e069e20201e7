"""The viewer's signal data (wf.curate): each step's effect and window, and the quality breakdown.

Kept apart from the page's other data so the page shows exactly what `wf inspect --quality` measures:
the same assessment, the same words (:func:`wf.curate.quality.explain`).
"""

from __future__ import annotations

from typing import Any

from wf.curate.effects import Effect
from wf.curate.quality import MEANING, Quality, explain


def effect_json(e: Effect) -> dict[str, Any]:
    """One step's effect, short keys: st(atus), dead, px, frac, box, why."""
    return {"st": e.status, "dead": e.dead, "px": e.pixels, "frac": e.fraction,
            "box": list(e.box) if e.box else None, "why": e.why}


def quality_json(q: Quality) -> dict[str, Any]:
    """The breakdown the page's quality panel shows: one row per component."""
    notes = explain(q)
    return {
        "score": q.score,
        "rows": [{"name": name, "value": value, "weight": q.weights[name], "means": MEANING[name],
                  "measured": notes[name]} for name, value in q.components.items()],
        "dead": q.dead.steps,
        "reverted": [list(p) for p in q.corrections.reverted_steps],
        "repeats": q.repeats.steps,
    }

"""The filtering decisions an export applies: which demonstrations and which steps to leave out, and why.

Each decision returns the reason as a sentence (None: keep), so the export's manifest can list what was
filtered and why without knowing the rules (docs/quality.md, "Filtering").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wf.bundle.errors import BadInput
from wf.curate.effects import Effect
from wf.curate.quality import Quality


@dataclass(frozen=True, slots=True)
class Filters:
    """``min_quality``: leave out demonstrations scoring below it; ``drop_dead_steps``: leave out dead steps."""

    min_quality: float | None = None
    drop_dead_steps: bool = False

    def __post_init__(self) -> None:
        q = self.min_quality
        if q is not None and not (math.isfinite(q) and 0.0 <= q <= 1.0):
            raise BadInput(f"--min-quality {q} must be between 0 and 1", hint="the quality score is 0–1, e.g. 0.7")

    @property
    def active(self) -> bool:
        return self.min_quality is not None or self.drop_dead_steps

    def episode(self, quality: Quality) -> str | None:
        """Why a whole demonstration is left out, or None to keep it."""
        if self.min_quality is None:
            return None
        if quality.score is None:
            return f"no quality score (nothing could be measured), --min-quality {self.min_quality:g}"
        if quality.score < self.min_quality:
            return f"quality {quality.score:.4f} below --min-quality {self.min_quality:g}"
        return None

    def step(self, effect: Effect) -> str | None:
        """Why one step is left out, or None to keep it."""
        if self.drop_dead_steps and effect.dead:
            return "dead: the screen did not change"
        return None

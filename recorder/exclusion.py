"""Which windows must not be recorded: the `--exclude-window` rules, matched on title or WM class.

The matcher is the contract's (:mod:`wf.bundle.windowrules`), so `wf redact --mask-window` applies the very
same rules to a finished bundle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from wf.bundle.windowrules import WindowRules


class ExclusionRules(WindowRules):
    """The recorder's exclusion rules: window rules whose errors name ``--exclude-window``."""

    __slots__ = ()

    @classmethod
    def parse(cls, specs: Iterable[str], *, what: str = "--exclude-window") -> Self:
        return super().parse(specs, what=what)

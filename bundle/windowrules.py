"""Window rules: regular expressions searched in a window's title and, separately, in its WM class.

One matcher for every rule about windows: the recorder's exclusions (``--exclude-window``, the config file,
the built-in secret prompts) and ``wf redact --mask-window`` on a finished bundle, so a rule that excludes a
window while recording masks the very same windows afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from wf.bundle.errors import BadInput


def check_regex(pattern: str, what: str, flags: int = 0) -> re.Pattern[str]:
    """Compile ``pattern`` or raise ``BadInput`` naming ``what`` (never a traceback)."""
    if not pattern:
        raise BadInput(f"{what}: empty regular expression", hint="an empty pattern would match every window")
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise BadInput(f"{what}: bad regular expression {pattern!r}: {exc}",
                       hint="Python `re` syntax; quote it in the shell") from None


@dataclass(frozen=True, slots=True)
class WindowRules:
    """Patterns searched (``re.search``, case-insensitive) in a window's title and in its WM class."""

    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str], *, what: str) -> Self:
        """Compile every spec; ``what`` names the option or key they came from in error messages."""
        return cls(tuple(check_regex(spec, what, re.IGNORECASE) for spec in specs))

    @property
    def specs(self) -> list[str]:
        return [p.pattern for p in self.patterns]

    def __len__(self) -> int:
        return len(self.patterns)

    def matches(self, title: str | None, wm_class: str | None) -> bool:
        """True when any rule is found in the title or in the WM class (``instance.Class``)."""
        return any((title and p.search(title)) or (wm_class and p.search(wm_class)) for p in self.patterns)

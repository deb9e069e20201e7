"""Which windows must not be recorded: `--exclude-window REGEX` rules, matched on title or WM class.

Kept apart from the recorder so the redaction tools can apply the very same rules to a finished bundle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from wf.bundle.errors import BadInput


@dataclass(frozen=True, slots=True)
class ExclusionRules:
    """Regular expressions searched (``re.search``, case-insensitive) in a window's title and WM class."""

    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> ExclusionRules:
        compiled = []
        for spec in specs:
            if not spec:
                raise BadInput("--exclude-window needs a non-empty regular expression",
                               hint="e.g. --exclude-window 'KeePass|Password'")
            try:
                compiled.append(re.compile(spec, re.IGNORECASE))
            except re.error as exc:
                raise BadInput(f"--exclude-window {spec!r} is not a valid regular expression: {exc}",
                               hint="use Python regular-expression syntax, e.g. 'Bitwarden|1Password'") from None
        return cls(tuple(compiled))

    @property
    def specs(self) -> list[str]:
        return [p.pattern for p in self.patterns]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, title: str | None, wm_class: str | None) -> bool:
        """True when any rule matches the title or the WM class (``instance.Class``)."""
        return any((title and p.search(title)) or (wm_class and p.search(wm_class)) for p in self.patterns)

"""Scrub patterns for `wf redact`: user regexes and the named presets (``--scrub-preset secrets``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from wf.bundle.errors import BadInput


@dataclass(frozen=True, slots=True)
class ScrubPattern:
    """A regex whose matches are secrets; ``check`` filters candidates (e.g. the Luhn test of cards)."""

    name: str
    regex: re.Pattern[str]
    check: Callable[[str], bool] | None = None

    def matches(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every non-empty match that passes ``check``."""
        spans = []
        for m in self.regex.finditer(text):
            if m.end() > m.start() and (self.check is None or self.check(m.group())):
                spans.append((m.start(), m.end()))
        return spans


def luhn_ok(candidate: str) -> bool:
    """The Luhn checksum every payment card number satisfies (spaces and dashes ignored)."""
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _p(name: str, regex: str, check: Callable[[str], bool] | None = None) -> ScrubPattern:
    return ScrubPattern(name, re.compile(regex), check)


# Shapes documented by the issuers. Distinctive prefixes match anywhere (a token typed right after other
# characters, "0ghp_…", is still a token); the generic "sk-" needs a word boundary ("task-…" is not a key).
SECRETS: tuple[ScrubPattern, ...] = (
    _p("aws-access-key-id", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    _p("github-token", r"gh[pousr]_[A-Za-z0-9]{36,255}"),
    _p("github-fine-grained-pat", r"github_pat_[A-Za-z0-9_]{22,255}"),
    _p("gitlab-token", r"glpat-[A-Za-z0-9_-]{20,}"),
    _p("slack-token", r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    _p("stripe-key", r"[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    _p("sk-api-key", r"\bsk-[A-Za-z0-9_-]{20,}"),  # OpenAI, Anthropic (sk-ant-…) and look-alikes
    _p("google-api-key", r"AIza[0-9A-Za-z_-]{35}"),
    _p("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    _p("private-key-block", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    _p("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    _p("card-number", r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)", luhn_ok),
)

PRESETS: dict[str, tuple[ScrubPattern, ...]] = {"secrets": SECRETS}


def build_patterns(scrub: list[str], presets: list[str]) -> tuple[ScrubPattern, ...]:
    """User regexes (named ``scrub#1``… so the header never repeats them) plus the named presets."""
    out: list[ScrubPattern] = []
    for i, text in enumerate(scrub, 1):
        if not text:
            raise BadInput("--scrub: empty regular expression", hint="an empty pattern would match everywhere")
        try:
            rx = re.compile(text)
        except re.error as exc:
            raise BadInput(f"--scrub #{i}: bad regular expression: {exc}",
                           hint="Python `re` syntax; quote it in the shell") from None
        if rx.fullmatch(""):
            raise BadInput(f"--scrub #{i} matches the empty string",
                           hint="a scrub pattern must match at least one character (use + rather than *)")
        out.append(ScrubPattern(f"scrub#{i}", rx))
    for name in presets:
        if name not in PRESETS:
            raise BadInput(f"unknown --scrub-preset {name!r}", hint=f"presets: {', '.join(PRESETS)}")
        out.extend(PRESETS[name])
    return tuple(out)

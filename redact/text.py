"""Scrubbing free text (window titles, marks, header text, annotations) of the literals found in it.

Which strings of a JSON line are text and which are structure: :mod:`wf.redact.structure`.
"""

from __future__ import annotations

from collections.abc import Iterable

PLACEHOLDER = "[REDACTED]"


def scrub_text(text: str, literals: Iterable[str]) -> str:
    """``text`` with every literal replaced by the placeholder, longest literals first."""
    for lit in sorted(literals, key=len, reverse=True):
        if lit and lit in text:
            text = text.replace(lit, PLACEHOLDER)
    return text


def strings_in(obj: object) -> Iterable[str]:
    """Every string (keys included) inside a JSON-like value."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from strings_in(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from strings_in(v)

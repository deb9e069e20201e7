"""Enumerated option values that the library keeps as plain tuples, spelled as types for the parser.

typer lists a ``Literal``'s (or an ``Enum``'s) values in `--help` and rejects anything else with one line
naming them; a repeatable option needs the ``Enum`` (typer takes no ``list[Literal[...]]``).
tests/test_cli.py checks each of these against the library's own tuple, so the two cannot drift.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Coords = Literal["pixels", "unit", "k1000"]  # wf.bundle.actions.COORDS


class ScrubPreset(StrEnum):  # wf.redact.presets.PRESETS
    secrets = "secrets"

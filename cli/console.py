"""Shared output helpers: people read stderr/rich tables, scripts read JSON on stdout."""

from __future__ import annotations

import sys

import msgspec
import orjson
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def print_json(obj: object) -> None:
    data = msgspec.to_builtins(obj) if isinstance(obj, msgspec.Struct) else obj
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=msgspec.to_builtins) + b"\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    err.print(f"[yellow]wf: warning:[/] {message}", markup=True, highlight=False)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"

"""`wf inspect --quality`: the demonstration's quality (docs/quality.md) as a table or JSON."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from wf.bundle.reader import Bundle
from wf.cli.console import out, print_json
from wf.curate.quality import MEANING, Assessment, Quality, explain


def print_quality_json(b: Bundle, assessed: Assessment) -> None:
    print_json({"bundle": str(b.path), "quality": assessed.quality})


def effect_cell(assessed: Assessment, n: int) -> str:
    """A step's effect in a few words, for the actions table."""
    e = assessed.effects[n]
    if e.status == "unknown":
        return "[dim]unknown[/]"
    if e.dead:
        return "[bold red]dead[/]"
    if e.status == "unchanged":
        return "[dim]no change[/]"
    return f"{e.pixels:,} px"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def render_quality(b: Bundle, q: Quality) -> None:
    t = Table(title=f"wf quality {escape(str(b.path))} — score {_pct(q.score)}", title_justify="left")
    t.add_column("component", style="bold")
    t.add_column("value", justify="right")
    t.add_column("weight", justify="right", style="dim")
    t.add_column("1.0 means", style="dim")
    t.add_column("measured")
    details = explain(q)
    for name, value in q.components.items():
        t.add_row(name, _pct(value), f"{q.weights[name]:.2f}", MEANING[name], escape(details[name]))
    out.print(t)

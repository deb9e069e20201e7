"""`wf inspect --quality`: the demonstration's quality (docs/quality.md) as a table or JSON."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from wf.bundle.reader import Bundle
from wf.cli.console import out, print_json
from wf.curate.quality import Assessment, Quality

# What each component's 1.0 means, for the table (docs/quality.md explains each).
MEANING = {
    "activity": "share of the task span with input",
    "dead": "steps that changed the screen",
    "corrections": "steps without a correction",
    "pointer": "pointer travel that went straight",
    "hesitation": "active time without pauses mid-step",
    "repeats": "steps that were not repeats",
    "replay": "last kept replay verified",
}


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
    a, d, c, p, h, r = q.activity, q.dead, q.corrections, q.pointer, q.hesitation, q.repeats
    details = {
        "activity": f"active {a.active:.1f} s of {a.span:.1f} s; {a.idle_gaps} idle gap(s), {a.idle:.1f} s",
        "dead": f"{d.dead} dead of {d.judged} judged steps"
                + (f" ({', '.join(f'{k} {v}' for k, v in d.by_kind.items())})" if d.by_kind else "")
                + (f"; {d.unknown} unknown" if d.unknown else ""),
        "corrections": f"{c.deletions} deletion(s), {c.undos} undo(s), {c.reverted} reverted step(s) "
                       f"in {q.steps} steps",
        "pointer": f"{p.travels} travel(s): {p.path_px:,.0f} px path for {p.displacement_px:,.0f} px displacement",
        "hesitation": f"{h.pauses} pause(s) mid-step, {h.seconds:.1f} s (longest {h.longest:.1f} s)",
        "repeats": f"{r.repeats} repeat(s), {r.retries} of a dead step",
        "replay": "no kept replay" if q.replay is None else
                  f"{q.replay.status}" + (" (stale: the events changed since)" if q.replay.stale else ""),
    }
    for name, value in q.components.items():
        t.add_row(name, _pct(value), f"{q.weights[name]:.2f}", MEANING[name], escape(details[name]))
    out.print(t)

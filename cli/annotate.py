"""`wf annotate`: add the human signal (instruction, outcome, step notes, drops) to a bundle."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.actions import load_actions
from wf.bundle.annotation_log import annotate, load_annotations, parse_import, read_log, to_record
from wf.bundle.annotations import Annotations, Change, Outcome, annotation_rows, check_tag, check_values
from wf.bundle.errors import BadInput
from wf.bundle.reader import Bundle
from wf.cli.console import err, out, print_json, warn

HELP = (
    "Annotate a bundle: instruction, outcome, tags, quality; per step a note, thought, label, or drop.\n\n"
    "Every call appends records to BUNDLE/annotations.jsonl; events.jsonl is never changed. The effective "
    "annotation is the fold of that log (later records win) and is printed after every call; with no change "
    "options the command only prints it (--json for JSON, --history for every record).\n\n"
    "Steps are the 0-based action numbers of `wf inspect --actions`; a dropped step stays in the recording "
    "but is left out of exports and action-level replay. --from FILE.jsonl imports a batch (e.g. written by "
    "a model), checked completely before anything is appended. -i opens the interactive step editor."
)


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    task: Annotated[str | None, typer.Option("--task", metavar="TEXT",
                                             help="The task instruction (\"\" clears it).")] = None,
    outcome: Annotated[Outcome | None, typer.Option("--outcome", help="How the demonstration ended.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", metavar="TAG", help="Add a tag (repeatable).")] = None,
    untag: Annotated[list[str] | None, typer.Option("--untag", metavar="TAG",
                                                    help="Remove a tag (repeatable).")] = None,
    quality: Annotated[int | None,
                       typer.Option("--quality", metavar="1-5",
                                    help="Demonstration quality, 1 (poor) to 5.")] = None,
    step: Annotated[list[int] | None, typer.Option("--step", metavar="N",
                                                   help="Step to annotate (repeatable).")] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT",
                                             help="With --step: a note (\"\" clears it).")] = None,
    thought: Annotated[str | None,
                       typer.Option("--thought", metavar="TEXT", help="With --step: the person's reasoning.")] = None,
    label: Annotated[str | None,
                     typer.Option("--label", metavar="TEXT", help="With --step: a short name for the step.")] = None,
    drop: Annotated[bool,
                    typer.Option("--drop", help="With --step: leave it out of exports/replay.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="With --step: keep the step (undo --drop).")] = False,
    from_file: Annotated[Path | None,
                         typer.Option("--from", metavar="FILE", help="Import annotation records from JSONL.")] = None,
    author: Annotated[str | None,
                      typer.Option("--author", metavar="NAME", help="Author of the records (default $USER).")] = None,
    interactive: Annotated[bool,
                           typer.Option("-i", "--interactive", help="Open the terminal editor.")] = False,
    history: Annotated[bool, typer.Option("--history", help="Print every record of the log.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> int:
    b = Bundle.open(bundle)
    if author is not None and not author.strip():
        raise BadInput("--author must not be empty")
    changes = _changes(task, outcome, tag or [], untag or [], quality, step or [], note, thought, label,
                       drop, keep)
    if from_file is not None:
        changes += parse_import(from_file)
    if interactive:
        if changes or history:
            raise BadInput("-i does not combine with change options or --history",
                           hint="annotate from the command line, or interactively, one at a time")
        return _interactive(b, author)
    if history:
        return _print_history(b, json)
    if changes:
        n_actions = _count_actions(b) if any(c.step is not None for c in changes) else None
        via = "import" if from_file is not None else "cli"
        ann = annotate(b, changes, author=author, via=via, n_actions=n_actions)
        err.print(f"appended {len(changes)} record(s) to {escape(str(b.annotations_path))}")
    else:
        ann = load_annotations(b)
    for w in ann.warnings:
        warn(escape(w))
    if json:
        print_json(ann.to_json())
    else:
        render(ann, str(b.path))
    return 0


def _changes(task: str | None, outcome: Outcome | None, tags: list[str], untags: list[str],
             quality: int | None, steps: list[int], note: str | None, thought: str | None,
             label: str | None, drop: bool, keep: bool) -> list[Change]:
    """Turn the options into validated changes (one for the episode, one per step)."""
    if quality is not None and not 1 <= quality <= 5:
        raise BadInput(f"--quality {quality} is out of range", hint="quality is an integer from 1 to 5")
    if drop and keep:
        raise BadInput("--drop and --keep contradict each other", hint="give one of them")
    texts = (("note", note), ("thought", thought), ("label", label))
    step_values: dict[str, object] = {k: v for k, v in texts if v is not None}
    if drop or keep:
        step_values["dropped"] = drop
    if step_values and not steps:
        raise BadInput("--note, --thought, --label, --drop and --keep need --step N",
                       hint="steps are numbered from 0, as in `wf inspect --actions`")
    if steps and not step_values:
        raise BadInput("--step needs something to set: --note, --thought, --label, --drop or --keep")
    if any(s < 0 for s in steps):
        raise BadInput(f"step {min(steps)} is out of range", hint="steps are numbered from 0")
    episode = {k: v for k, v in (("task", task), ("outcome", outcome), ("quality", quality)) if v is not None}
    try:
        changes = [Change(values=check_values(None, episode),
                          tags_add=tuple(_norm_tags(tags)), tags_remove=tuple(_norm_tags(untags)))]
        changes += [Change(step=s, values=check_values(s, step_values)) for s in dict.fromkeys(steps)]
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return [c for c in changes if not c.is_empty()]


def _norm_tags(tags: list[str]) -> list[str]:
    try:
        return list(dict.fromkeys(check_tag(t) for t in tags))
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _count_actions(b: Bundle) -> int:
    return len(load_actions(b))


def _interactive(b: Bundle, author: str | None) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput("-i needs an interactive terminal",
                       hint="use the scriptable options (--task, --step N --note …) in scripts")
    from wf.cli.annotate_tui import run_tui  # textual takes ~0.3 s to import: only for -i

    return run_tui(b, author=author)


def _print_history(b: Bundle, json: bool) -> int:
    records, warns = read_log(b.annotations_path)
    for w in warns:
        warn(escape(w))
    if json:
        print_json([{"line": r.line, **to_record(r.change, author=r.author, via=r.via, at=r.at)}
                    for r in records])
        return 0
    t = Table(title=f"annotation history of {escape(str(b.path))}", title_justify="left")
    for col in ("line", "at", "author", "via", "change"):
        t.add_column(col)
    for r in records:
        c = r.change
        what = [f"{k}={v!r}" for k, v in c.values.items()]
        what += [f"+tag {x}" for x in c.tags_add] + [f"-tag {x}" for x in c.tags_remove]
        target = f"step {c.step}: " if c.step is not None else ""
        t.add_row(str(r.line), r.at, escape(r.author), r.via, escape(target + ", ".join(what)))
    out.print(t)
    return 0


def render(ann: Annotations, path: str) -> None:
    t = Table(title=f"annotations of {escape(path)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    if not ann.task_annotated:
        t.add_row("task", escape(ann.task or "—") + (" [dim](from the recording)[/]" if ann.task else ""))
    for label, value in annotation_rows(ann):
        t.add_row(escape(label), escape(value))
    out.print(t)

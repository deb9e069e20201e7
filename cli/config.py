"""`wf config`: show the effective configuration and where it came from."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from wf.cli.console import out, print_json
from wf.recorder.config import CONFIG_ENV, config_location, load_config
from wf.recorder.privacy_defaults import DEFAULT_RULES

HELP = (
    "Show the configuration `wf record` uses: `wf config show [--json]` prints the effective settings "
    "(fps, hotkeys, window exclusions) and the file they came from; `wf config path` prints the file "
    f"looked for (${CONFIG_ENV}, else $XDG_CONFIG_HOME/wf/config.toml, else ~/.config/wf/config.toml).\n\n"
    "The file is TOML with tables \\[record] fps, \\[hotkeys] stop/pause/mark and \\[privacy] exclude_windows, "
    "default_exclusions, skip_defaults; see docs/privacy.md."
)

def command(
    action: Annotated[Literal["show", "path"], typer.Argument(
        metavar="ACTION", help="What to print: the settings, or the file looked for.")] = "show",
    json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> int:
    where, why = config_location()
    if action == "path":
        if json:
            print_json({"path": str(where), "from": why, "exists": where.is_file()})
        else:
            typer.echo(str(where))
        return 0
    cfg = load_config()
    if json:
        print_json({**cfg.to_json(), "looked_for": str(where), "from": why})
        return 0
    origin = (f"{where}" if cfg.source else f"built-in defaults (no file at {where})")
    t = Table(title=f"wf configuration — {escape(origin)}", show_header=False, title_justify="left")
    t.add_column(style="bold", no_wrap=True)
    t.add_column(no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("record.fps", f"{cfg.fps:g}", "")
    for name in ("stop", "pause", "mark"):
        t.add_row(f"hotkeys.{name}", getattr(cfg.hotkeys, name), "")
    t.add_row("privacy.default_exclusions", "on" if cfg.default_exclusions else "off", "")
    for rule in DEFAULT_RULES:
        state = "skipped" if (rule.name in cfg.skip_defaults or not cfg.default_exclusions) else "on"
        t.add_row(f"  built-in {rule.name}", state, escape(rule.pattern))
    for p in cfg.exclude_windows:
        t.add_row("privacy.exclude_windows", "on", escape(p))
    out.print(t)
    return 0

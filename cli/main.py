"""The `wf` command: one module per command, registered here, and the one boundary that turns errors
into exit codes. The work lives in wf.bundle, wf.recorder, wf.replayer, wf.export, wf.redact, wf.view."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import warnings
from collections.abc import Callable

import typer
import typer.core
from rich.markup import escape
from typer._click.core import Context, Parameter  # typer ≥ 0.29 vendors click: the API TyperCommand extends
from typer.exceptions import TyperException

from wf.bundle.errors import WfError
from wf.bundle.version import wf_version
from wf.cli import annotate, config, export, inspect, record, redact, replay, split, validate, verify, view
from wf.cli.console import err
from wf.cli.exit import EXIT_CODES_HELP, ExitCode, for_error


def _no_flag_placeholders(params: list[Parameter]) -> list[Parameter]:
    """A flag takes no value, so its help shows none (typer's rich help would print ``<bool>``)."""
    for p in params:
        if isinstance(p, typer.core.TyperOption) and (p.is_flag or p.count) and p.metavar is None:
            p.metavar = ""
    return params


class WfCommand(typer.core.TyperCommand):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _no_flag_placeholders(super().get_params(ctx))


class WfGroup(typer.core.TyperGroup):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _no_flag_placeholders(super().get_params(ctx))


app = typer.Typer(
    name="wf",
    cls=WfGroup,
    help="Record desktop task demonstrations as agent training data, and prove them by replay.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"wf {wf_version()}")
        raise typer.Exit()


@app.callback()
def root(
    _version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                  help="Print the version and exit."),
) -> None:
    """Record desktop task demonstrations as agent training data, and prove them by replay."""


def _reflow(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph so the terminal can wrap them itself."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def _register(name: str, help_text: str, command: Callable[..., int]) -> None:
    app.command(name, cls=WfCommand, help=_reflow(help_text), epilog=EXIT_CODES_HELP)(command)


_register("record", record.HELP, record.command)
_register("replay", replay.HELP, replay.command)
_register("verify", verify.HELP, verify.command)
_register("validate", validate.HELP, validate.command)
_register("inspect", inspect.HELP, inspect.command)
_register("annotate", annotate.HELP, annotate.command)
_register("view", view.HELP, view.command)
_register("redact", redact.HELP, redact.command)
_register("export", export.HELP, export.command)
_register("split", split.HELP, split.command)
_register("config", config.HELP, config.command)


def report_error(exc: WfError) -> int:
    err.print(f"[bold red]wf: error:[/] {escape(exc.message)}")
    if exc.hint:
        err.print(f"[dim]hint: {escape(exc.hint)}[/]")
    return int(for_error(exc))


def report_usage_error(exc: TyperException) -> int:
    """A usage error from the parser as one line and a hint, like every other error."""
    # typer's coercion reports a bad choice as "Value error, 'x' is not one of …": the prefix says nothing
    message = exc.format_message().replace("Value error, ", "")
    err.print(f"[bold red]wf: error:[/] {escape(message)}")
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if isinstance(ctx, Context) else "wf"
    err.print(f"[dim]hint: see `{escape(where)} --help`[/]")
    return int(ExitCode.BAD_INPUT)


def run(argv: list[str] | None = None) -> int:
    """The one boundary that turns exceptions into exit codes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # readers also record warnings; commands print them once
        try:
            result = app(args=argv, prog_name="wf", standalone_mode=False)
        except WfError as exc:
            return report_error(exc)
        except typer.Exit as exc:
            return exc.exit_code
        except typer.Abort:
            err.print("wf: interrupted")
            return int(ExitCode.INTERRUPTED)
        except TyperException as exc:  # usage errors from the vendored click
            return report_usage_error(exc)
        except KeyboardInterrupt:
            err.print("wf: interrupted")
            return int(ExitCode.INTERRUPTED)
        except BrokenPipeError:
            return int(ExitCode.OK)
        except Exception as exc:
            if os.environ.get("WF_DEBUG"):
                raise
            err.print(f"[bold red]wf: internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}")
            err.print("[dim]hint: this is a bug in wf; rerun with WF_DEBUG=1 for the traceback and report it[/]")
            return int(ExitCode.INTERNAL_ERROR)
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    try:
        code = run()
    except KeyboardInterrupt:  # Ctrl+C in the few statements run() has outside its own try
        code = int(ExitCode.INTERRUPTED)
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if code == ExitCode.INTERRUPTED and all(t.daemon for t in others):
        # Stopped from outside (Ctrl+C, a CI timeout's SIGTERM) and everything is released and closed by now:
        # skip the interpreter's teardown, a few hundred ms of garbage collection on a busy machine, so the
        # process is gone within the second `wf replay` promises (docs/replay.md, "Safety").
        atexit._run_exitfuncs()  # what sys.exit would still have run
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)

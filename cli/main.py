"""The `wf` command: argument parsing only; the work lives in wf.bundle, wf.recorder, wf.replayer."""

from __future__ import annotations

import os
import sys
import warnings

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from wf.bundle.errors import ExitCode, WfError
from wf.bundle.version import wf_version
from wf.cli import inspect, validate
from wf.cli.console import err

EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 check failed (validation or fidelity) · 2 bad usage or bad input · "
    "3 environment problem (no display, missing tool, disk) · 130 interrupted · 70 internal error (a bug)."
)
INTERNAL_ERROR = 70

app = typer.Typer(
    name="wf",
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


def _register(name: str, module: object) -> None:
    app.command(name, help=_reflow(module.HELP), epilog=EXIT_CODES_HELP)(module.command)  # type: ignore[attr-defined]


_register("validate", validate)
_register("inspect", inspect)


def _register_optional() -> None:
    """Commands from later modules; each registers itself if present (keeps this file flat)."""
    import importlib

    for name in ("record", "replay", "annotate", "view", "redact", "export", "config"):
        try:
            mod = importlib.import_module(f"wf.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"wf.cli.{name}":
                continue
            raise
        _register(name, mod)


_register_optional()


def report_error(exc: WfError) -> int:
    err.print(f"[bold red]wf: error:[/] {escape(exc.message)}")
    if exc.hint:
        err.print(f"[dim]hint: {escape(exc.hint)}[/]")
    return int(exc.exit_code)


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
            show = getattr(exc, "show", None)
            if show:
                show(file=sys.stderr)
            else:
                err.print(f"wf: error: {escape(exc.message)}")
            return int(ExitCode.BAD_INPUT)
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
            return INTERNAL_ERROR
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())

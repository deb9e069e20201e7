"""`wf export`: bundles → a training dataset (Parquet, WebDataset, AgentNet, OSWorld, pyautogui scripts)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wf.cli.choices import Coords
from wf.cli.console import err, human_bytes, print_json, warn
from wf.cli.exit import ExitCode
from wf.export.formats import FormatName
from wf.export.images import ImageFormat
from wf.export.pipeline import DEFAULT_SHARD_MB, ExportOptions, Manifest, export
from wf.scale.cluster import Engine as EngineName

HELP = (
    "Export bundles as a training dataset: one row per step (screen before and after, instruction, action "
    "as JSON and pyautogui code, previous actions, annotations).\n\n"
    "Formats: parquet (Hugging Face Image columns, sharded), webdataset (tar shards), agentnet (episode "
    "JSONL, 0–1 coordinates, the screen BEFORE each action), osworld (traj.jsonl per episode, the screen "
    "AFTER each action), pyautogui (one replay script per bundle), adp (Agent Data Protocol trajectories: "
    "observations and API-style actions). Schemas: docs/export.md.\n\n"
    "Every row carries the step's effect in the bundle's last kept replay (verified, differs, unchecked, "
    "unreplayed) and that replay's verdict; --require-verified keeps only the episodes whose last replay was "
    "verified (every step re-executed and its effect observed).\n\n"
    "Dropped steps (wf annotate --drop) are left out unless --include-dropped. --out must be a new or empty "
    "directory; its manifest.json lists bundles, steps, files and skipped bundles with the reason.\n\n"
    "--min-quality X leaves out demonstrations whose quality score (docs/quality.md) is below X; "
    "--drop-dead-steps leaves out steps after which the screen did not change. Every row carries the step's "
    "`screen_effect` and the episode's `quality_score`; the manifest lists what was filtered and why.\n\n"
    "Exits 1 when a bundle was skipped as invalid (the others are still exported), unless --skip-invalid."
)


def command(
    bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE...", help="Bundle directories or URLs "
                                                 "(file://, s3://…), exported in this order.")],
    format: Annotated[FormatName, typer.Option("--format", "-f", help="The dataset format (docs/export.md).")],
    out: Annotated[str, typer.Option("--out", "-o", metavar="DIR", help="Output directory or URL (new or empty).")],
    coords: Annotated[Coords | None, typer.Option("--coords", help="pixels, unit (0–1) or k1000 (0–1000). Default: "
                                                  "the format's convention (unit for agentnet, pixels otherwise)."
                                                  )] = None,
    include_dropped: Annotated[bool, typer.Option("--include-dropped",
                                                  help="Keep steps annotated as dropped.")] = False,
    shard_size: Annotated[float, typer.Option("--shard-size", metavar="MB",
                                              help="Largest Parquet/WebDataset shard, in MiB.")] = DEFAULT_SHARD_MB,
    jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N", help="Bundles read in parallel (processes).")] = 1,
    image_format: Annotated[ImageFormat | None, typer.Option("--image-format", help="Re-encode screenshots "
                                                             "(lossless). Default: the stored PNGs as-is.")] = None,
    max_side: Annotated[int | None, typer.Option("--max-side", metavar="PX", help="Downscale screenshots so their "
                                                 "longer side is at most PX.")] = None,
    history: Annotated[int, typer.Option("--history", metavar="K",
                                         help="Previous actions given as text per step.")] = 5,
    require_verified: Annotated[bool, typer.Option("--require-verified", help="Only episodes whose last kept "
                                                   "replay was verified (the others are listed in the "
                                                   "manifest as excluded).")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid",
                                               help="Exit 0 even when invalid bundles were skipped.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON on stdout.")] = False,
    min_quality: Annotated[float | None, typer.Option("--min-quality", metavar="X", help="Leave out demonstrations "
                                                      "whose quality score (0–1) is below X.")] = None,
    drop_dead_steps: Annotated[bool, typer.Option("--drop-dead-steps", help="Leave out steps that changed nothing "
                                                  "on screen (dead clicks and keys).")] = False,
    engine: Annotated[EngineName, typer.Option("--engine", help="local: --jobs processes on this machine; ray: a "
                                               "Ray Data pipeline (docs/scale.md).")] = "local",
    address: Annotated[str | None, typer.Option("--address", metavar="ADDR", help="With --engine ray: the "
                                                "cluster to join (default: a private local Ray).")] = None,
) -> int:
    opts = ExportOptions(format=format, out=out, coords=coords, include_dropped=include_dropped,
                         shard_mb=shard_size, jobs=jobs, image_format=image_format, max_side=max_side,
                         history=history, min_quality=min_quality, drop_dead_steps=drop_dead_steps,
                         require_verified=require_verified, engine=engine, address=address)
    quiet = json or not sys.stderr.isatty()
    manifest = export(bundles, opts) if quiet else _with_progress(bundles, opts)
    for b in manifest.bundles:
        for w in b.warnings:
            warn(escape(w))
    for s in manifest.skipped:
        warn(f"skipped {escape(s.path)}: {escape(s.reason)}")
    for f in manifest.filtered:
        err.print(f"[yellow]left out[/] {escape(f.path)} ({f.filter}): {escape(f.reason)}")
    if json:
        print_json(manifest)
    else:
        _summary(manifest, out)
    if manifest.skipped and not skip_invalid:
        return int(ExitCode.CHECK_FAILED)
    return int(ExitCode.OK)


def _with_progress(bundles: list[str], opts: ExportOptions) -> Manifest:
    # auto_refresh off: no refresh thread exists while export forks its workers.
    progress = Progress(TextColumn("[bold]export[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("bundles · {task.fields[steps]:,} steps"), TimeElapsedColumn(),
                        console=err, auto_refresh=False, transient=True)
    task = progress.add_task("export", total=len(bundles), steps=0)

    def update(done: int, total: int, steps: int) -> None:
        progress.update(task, completed=done, total=total, steps=steps)
        progress.refresh()

    with progress:
        return export(bundles, opts, progress=update)


def _summary(m: Manifest, out: str) -> None:
    manifest = out.rstrip("/") + "/manifest.json"
    err.print(f"[green]exported[/] {m.steps:,} steps from {m.episodes} bundle(s) as {m.format} "
              f"({m.coords} coordinates) → {escape(str(out))} ({len(m.files)} file(s), {human_bytes(m.bytes)})")
    if m.skipped:
        err.print(f"[red]skipped[/] {len(m.skipped)} bundle(s); see {escape(manifest)}")
    dead = sum(len(b.dead_dropped) for b in m.bundles)
    left = ([f"{len(m.filtered)} bundle(s) below --min-quality"] if m.filtered else []) + \
        ([f"{dead} dead step(s)"] if dead else [])
    if left:
        err.print(f"[yellow]left out[/] {' and '.join(left)}; see {escape(manifest)}")

"""`wf view`: render a bundle (and optionally a replay report) as one self-contained HTML page.

The page is a Jinja2 template (autoescaped) plus a small plain-JavaScript app inlined from
``templates/view.js``. Everything that came from the recording — window titles, typed text, mark
labels, annotations — travels to the page only inside a JSON data block (with ``<``, ``>`` and
``&`` escaped, so it can never close the script element) and is put on screen with
``textContent``; the page never builds HTML from recorded strings.

Screenshots are referenced by relative URLs from wherever the HTML is written (default: beside
the bundle directory), or inlined as base64 with ``embed=True`` for a single shareable file.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import orjson
from markupsafe import Markup
from PIL import Image

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.events import X_CLIENTS_ONLY_NOTE
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import last_replay
from wf.curate.quality import assess
from wf.view.report import CheckpointView, Point, ReportView, diff_png, load_report, screen_file
from wf.view.signal import effect_json, quality_json
from wf.view.steps import ScreenInfo, load_step_annotations, scan_stream, step_json, timeline

EMBED_WARN_BYTES = 50 * 1024 * 1024
MAX_DIFFS = 300  # diff pictures drawn per report, worst checkpoints first
HTML_MODE = 0o600  # the page holds window titles and typed text: as private as the bundle


@dataclass
class ViewResult:
    """What `render_view` wrote."""

    out: Path
    steps: int
    bytes: int
    embedded_bytes: int = 0
    diffs: int = 0
    warnings: list[str] = field(default_factory=list)


def default_out(bundle_path: Path) -> Path:
    """``BUNDLE.html`` beside the bundle directory (not inside it: the bundle stays pristine)."""
    root = bundle_path.resolve()
    return root.parent / f"{root.name}.html"


def script_json(data: object) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc. (valid JSON escapes inside strings and never
    needed outside them), so no recorded string can form ``</script>`` or ``<!--``; U+2028/2029
    are escaped too for old parsers.
    """
    try:
        text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # a lone surrogate from a \udXXX escape in a recorded string: \u-escape everything
        text = json.dumps(data, ensure_ascii=True)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)  # escaped just above: the one place raw text enters the page


class _Images:
    """The page's picture table: each distinct file once, by index, as a relative URL or a data URI."""

    def __init__(self, out_dir: Path, embed: bool, side_dir: Path) -> None:
        self.out_dir = out_dir
        self.embed = embed
        self.side_dir = side_dir
        self.table: list[dict[str, Any]] = []
        self._by_key: dict[str, int] = {}
        self.embedded_bytes = 0

    def _url(self, path: Path) -> str:
        rel = os.path.relpath(path, self.out_dir)
        return quote(Path(rel).as_posix())

    def _data_uri(self, data: bytes) -> str:
        self.embedded_bytes += len(data)
        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")

    def add_file(self, path: Path | None, info: ScreenInfo | None = None) -> int | None:
        if path is None:
            return None
        key = str(path)
        if key in self._by_key:
            return self._by_key[key]
        entry: dict[str, Any] = {"w": info.width if info else None, "h": info.height if info else None,
                                 "x": info.x if info else 0, "y": info.y if info else 0, "name": path.name}
        if not path.is_file():
            entry["src"] = None
        elif self.embed:
            entry["src"] = self._data_uri(path.read_bytes())
        else:
            entry["src"] = self._url(path)
        if entry["w"] is None and path.is_file():
            with Image.open(path) as img:
                entry["w"], entry["h"] = img.size
        self._by_key[key] = len(self.table)
        self.table.append(entry)
        return self._by_key[key]

    def add_png(self, name: str, png: bytes, width: int, height: int) -> int:
        if self.embed:
            src = self._data_uri(png)
        else:
            self.side_dir.mkdir(mode=0o700, exist_ok=True)
            target = self.side_dir / name
            _write_private(target, png)
            src = self._url(target)
        self.table.append({"src": src, "w": width, "h": height, "x": 0, "y": 0, "name": name})
        return len(self.table) - 1


def _write_private(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, HTML_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write {path}: {exc.strerror}", hint="choose a writable --out") from None


def _checkpoint_rank(cp: CheckpointView) -> tuple[int, float]:
    """Failing first, then the most different."""
    return (0 if not cp.passed else 1, -cp.diff_fraction)


class _StepFinder:
    """Maps a raw event index to the step that contains it (or the next one: checkpoints precede events)."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.firsts = [s["ev"][0] for s in steps]
        self.lasts = [s["ev"][1] for s in steps]
        self.ok = all(isinstance(v, int) for v in self.firsts + self.lasts)

    def __call__(self, step: int | None, event: int | None) -> int | None:
        if step is not None:
            return step if 0 <= step < len(self.firsts) else None
        if event is None or not self.ok or not self.firsts:
            return None
        n = bisect.bisect_right(self.firsts, event) - 1  # last step starting at or before the event
        if n >= 0 and event <= self.lasts[n]:
            return n
        return n + 1 if n + 1 < len(self.firsts) else None


def _report_json(rep: ReportView, images: _Images, steps: list[dict[str, Any]],
                 warns: list[str]) -> tuple[dict[str, Any], int]:
    find = _StepFinder(steps)
    position = {s["i"]: n for n, s in enumerate(steps)}  # action index → place in the page's step list
    warns.extend(rep.warnings)
    order = sorted(range(len(rep.checkpoints)), key=lambda n: _checkpoint_rank(rep.checkpoints[n]))
    diffs = 0
    rows: list[dict[str, Any]] = [{} for _ in rep.checkpoints]
    for rank, n in enumerate(order):
        cp = rep.checkpoints[n]
        rec = images.add_file(cp.recorded)
        rep_img = images.add_file(cp.replayed)
        diff_idx = None
        own_fraction = None
        identical = cp.passed and (cp.diff_fraction == 0 or cp.similarity == 1.0)
        if (rank < MAX_DIFFS and not identical and cp.recorded and cp.replayed
                and cp.recorded.is_file() and cp.replayed.is_file()):
            try:
                pic = diff_png(cp.recorded, cp.replayed)
            except OSError as exc:
                warns.append(f"cannot draw the diff of checkpoint {cp.title}: {exc}")
            else:
                own_fraction = pic.fraction
                diff_idx = images.add_png(f"diff-{n:05d}.png", pic.png, pic.width, pic.height)
                diffs += 1
        step = find(cp.step, cp.event)
        if step is None and cp.kind == "final" and steps:
            step = len(steps) - 1  # the final screen is what the last step left behind
        rows[n] = {
            "n": n, "step": step, "event": cp.event,
            "label": cp.title, "rec": rec, "rep": rep_img, "diff": diff_idx,
            "similarity": cp.similarity, "diff_fraction": cp.diff_fraction, "own_fraction": own_fraction,
            "differing": cp.differing, "passed": cp.passed, "waited": cp.waited, "synced": cp.synced,
            "bbox": cp.bbox,
        }
    if len(order) > MAX_DIFFS:
        warns.append(f"diff pictures drawn for the {MAX_DIFFS} worst of {len(order)} checkpoints only")

    def series(points: list[Point]) -> list[list[float | int | None]]:
        return [[p.x, p.value, find(p.step, p.event)] for p in points]

    effects: dict[int, dict[str, Any]] = {}
    for e in rep.effects:
        place = position.get(e.step)
        if place is None:
            continue
        effects[place] = {"status": e.status, "why": e.why, "screen": e.screen, "input": e.input,
                      "input_why": e.input_why, "rec": images.add_file(e.recorded),
                      "rep": images.add_file(e.replayed), "differing": e.differing, "bbox": e.bbox,
                      "waited": e.waited}
    return {
        "file": rep.path.name,
        "verdict": rep.verdict,
        "coverage": rep.coverage,
        "effects": effects,
        "passed": rep.passed,
        "summary": rep.summary,
        "failures": [[text, find(step, event)] for text, step, event in rep.failures],
        "checkpoints": rows,
        "order": order,  # failing / worst first
        "x_axis": "event",
        "timing": series(rep.timing),
        "pointer": series(rep.pointer),
        "timing_limit": rep.timing_limit,
        "pointer_limit": rep.pointer_limit,
    }, diffs


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wf.view", "templates"),
        autoescape=True,  # .j2 is not in select_autoescape's default list; escape everything
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("view.html.j2")


def script_hash(js: str) -> str:
    """The CSP source that allows exactly this inline script and nothing else."""
    return "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")


def _static(name: str) -> Markup:
    text = resources.files("wf.view").joinpath("templates", name).read_text(encoding="utf-8")
    if "</" + "script" in text.lower() or "</" + "style" in text.lower():  # our own files; keep them inert
        raise RuntimeError(f"templates/{name} must not contain a closing script/style tag")
    return Markup(text)  # a static file shipped with wf, not recorded data


def build_page_data(bundle: Bundle, images: _Images, report: ReportView | None,
                    warns: list[str]) -> tuple[dict[str, Any], int]:
    """The JSON the page's script renders from (steps, pictures, timeline, report)."""
    facts = scan_stream(bundle)
    assessed = assess(bundle)  # the actions, with their effects and windows (wf.curate)
    actions = assessed.actions
    episode, step_ann, ann_warns = load_step_annotations(bundle)
    warns.extend(dict.fromkeys(bundle.warnings))  # each pass over the stream repeats its warnings
    warns.extend(ann_warns)
    steps = []
    for a, effect, win in zip(actions, assessed.effects, assessed.windows, strict=True):
        s = step_json(a)
        s["pre"] = images.add_file(screen_file(bundle, s["pre"]), facts.screens.get(s["pre"] or ""))
        s["post"] = images.add_file(screen_file(bundle, s["post"]), facts.screens.get(s["post"] or ""))
        s["ann"] = step_ann.get(s["i"])
        s["chk"] = None
        s["fx"] = effect_json(effect)
        s["win"] = win
        s["eff"] = None
        steps.append(s)
    h = bundle.header
    meta = {
        "bundle": bundle.path.resolve().name,
        "task": episode["task"] or h.task,
        "started": h.started,
        "duration": facts.duration,
        "events": facts.events,
        "screen": {"w": h.screen.width, "h": h.screen.height, "scale": h.screen.scale},
        "recorder": f"{h.recorder.name} {h.recorder.version}",
        "platform": f"{h.platform.system} {h.platform.release}".strip(),
        "display": h.platform.display,
        # Recorded through XWayland (--allow-xwayland): the page says so in a banner (X_CLIENTS_ONLY_NOTE).
        "x_clients_only": h.platform.x_clients_only,
        "launch": h.launch,
        "stopped": facts.stopped,
        "episode": episode,
    }
    data: dict[str, Any] = {"meta": meta, "steps": steps, "timeline": timeline(facts), "report": None,
                            "quality": quality_json(assessed.quality)}
    diffs = 0
    if report is not None:
        data["report"], diffs = _report_json(report, images, steps, warns)
        rows = data["report"]["checkpoints"]
        for n in reversed(data["report"]["order"]):  # worst last, so a step shows its worst checkpoint
            if rows[n]["step"] is not None:
                steps[rows[n]["step"]]["chk"] = n
        for n, eff in data["report"].pop("effects").items():
            steps[n]["eff"] = eff
    data["images"] = images.table
    data["warnings"] = warns
    return data, diffs


def render_view(bundle_path: Path, *, out: Path | None = None, report_path: Path | None = None,
                embed: bool = False) -> ViewResult:
    """Write the viewer page for ``bundle_path`` and return what was written."""
    bundle = Bundle.open(bundle_path)
    out = (out or default_out(bundle_path)).resolve()
    if out.is_dir():
        raise BadInput(f"--out {out} is a directory", hint="name the HTML file, e.g. --out view.html")
    if not out.parent.is_dir():
        raise BadInput(f"cannot write {out}: {out.parent} does not exist", hint="create the directory first")
    warns: list[str] = []
    if report_path is None:  # the bundle's own evidence: its last kept replay
        kept = last_replay(bundle)
        if kept is not None:
            warns.extend(kept.warnings)
            if kept.stale:
                warns.append(f"the last kept replay ({kept.path.name}) replayed other events: its verdict is stale")
            report_path = kept.path
    report = load_report(report_path, bundle) if report_path else None
    images = _Images(out.parent, embed, out.parent / f"{out.stem}_files")
    data, diffs = build_page_data(bundle, images, report, warns)
    if embed and images.embedded_bytes > EMBED_WARN_BYTES:
        warns.append(f"--embed inlined {images.embedded_bytes / 2**20:.0f} MiB of screenshots; the page is heavy "
                     "to open and share (drop --embed to link them instead)")
    js = _static("view.js")
    html = _template().render(
        title=data["meta"]["task"] or data["meta"]["bundle"],
        meta=data["meta"],
        x_clients_note=X_CLIENTS_ONLY_NOTE,
        report=data["report"],
        quality=data["quality"],
        step_count=len(data["steps"]),
        data=script_json(data),
        css=_static("view.css"),
        js=js,
        js_hash=script_hash(js),
    )
    body = html.encode("utf-8")
    _write_private(out, body)
    return ViewResult(out=out, steps=len(data["steps"]), bytes=len(body), embedded_bytes=images.embedded_bytes,
                      diffs=diffs, warnings=warns)

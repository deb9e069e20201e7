"""`wf annotate -i`: a terminal editor that walks a bundle's steps and appends annotation records.

Built on textual, so it runs in any terminal, including over SSH. Every edit is appended to
``annotations.jsonl`` the moment it is confirmed (Enter in a field, or a key such as ``d``), so
quitting or losing the connection never loses work, and other annotators can write concurrently.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import DescendantFocus
from textual.widgets import DataTable, Footer, Input, Label, Static

from wf.bundle.actions import Action, load_actions
from wf.bundle.annotation_log import annotate, load_annotations
from wf.bundle.annotations import OUTCOMES, Annotations, Change, check_tag
from wf.bundle.errors import WfError
from wf.bundle.reader import Bundle

STEP_FIELDS = ("note", "thought", "label")
Opener = Callable[[Sequence[Path]], str]


def open_files(paths: Sequence[Path]) -> str:
    """Open images with ``$BROWSER`` or ``xdg-open``; returns a message for the status line.

    Over SSH without a display there is nothing to open them with, so the paths are shown instead
    (copy them with scp, or run `wf view` and open the HTML locally).
    """
    browser = os.environ.get("BROWSER")
    if browser:
        argv = shlex.split(browser)
    elif shutil.which("xdg-open") and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        argv = ["xdg-open"]
    else:
        return "no image viewer here (no $BROWSER, no display): " + ", ".join(map(str, paths))
    for p in paths:
        # Detached and silent: the viewer must not draw over, or wait on, the terminal UI.
        subprocess.Popen([*argv, str(p)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    return f"opened {len(paths)} screen(s) with {argv[0]}"


def _fmt_time(t: float) -> str:
    m, s = divmod(t, 60)
    return f"{int(m)}:{s:06.3f}"


class AnnotateApp(App[int]):
    """Step list on the left, the selected step's details and annotation fields on the right."""

    TITLE = "wf annotate"
    AUTO_FOCUS = "#steps"
    CSS = """
    #episode { height: auto; padding: 0 1; background: $boost; }
    #episode-fields { height: auto; }
    #episode-fields Input { width: 1fr; }
    #main { height: 1fr; }
    #steps { width: 3fr; }
    #detail { width: 2fr; padding: 0 1; border-left: solid $primary; }
    #info { height: auto; margin-bottom: 1; }
    .field-label { margin-top: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "drop", "drop"),
        Binding("k", "keep", "keep"),
        Binding("n", "next_unannotated", "next unannotated"),
        Binding("e", "edit('note')", "note"),
        Binding("t", "edit('thought')", "thought"),
        Binding("l", "edit('label')", "label"),
        Binding("T", "edit('task')", "task"),
        Binding("g", "edit('tags')", "tags"),
        Binding("c", "cycle_outcome", "outcome"),
        Binding("o", "open_screens", "open screens"),
        *(Binding(str(i), f"quality({i})", "quality", show=i == 1) for i in range(6)),
        Binding("escape", "cancel_edit", "back", show=False),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, bundle: Bundle, actions: Sequence[Action], *, author: str | None = None,
                 opener: Opener = open_files) -> None:
        super().__init__()
        self.bundle = bundle
        self.actions = list(actions)
        self.author = author
        self.opener = opener
        self.ann: Annotations = load_annotations(bundle)
        self.last_message = ""
        self._editing_step: int | None = None  # the step whose field has focus, fixed at focus time

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="episode"):
            yield Static(id="episode-info")
            with Horizontal(id="episode-fields"):
                yield Input(placeholder="task instruction (T)", id="task")
                yield Input(placeholder="tags, comma separated (g)", id="tags")
        with Horizontal(id="main"):
            yield DataTable(id="steps", cursor_type="row", zebra_stripes=True)
            with Vertical(id="detail"):
                yield Static(id="info")
                for name, key in (("note", "e"), ("thought", "t"), ("label", "l")):
                    yield Label(f"{name} ({key}, Enter saves, Esc cancels)", classes="field-label")
                    yield Input(id=name)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.bundle.path)
        table = self.query_one("#steps", DataTable)
        for col in ("#", "time", "action", "window", "status"):
            table.add_column(col, key=col)
        for a in self.actions:
            table.add_row(str(a.index), _fmt_time(a.t_start), escape(a.describe()),
                          escape(a.window or ""), self._status(a.index), key=str(a.index))
        for w in self.ann.warnings:
            self.notify(w, severity="warning", timeout=10)
        self._show_episode()
        self._show_step()

    # ------------------------------------------------------------ state helpers

    @property
    def current(self) -> int | None:
        """Action index under the cursor (None when the bundle has no actions)."""
        if not self.actions:
            return None
        return self.actions[self.query_one("#steps", DataTable).cursor_row].index

    def _status(self, index: int) -> str:
        if index not in self.ann.steps:
            return ""
        s = self.ann.steps[index]
        mark = "✗ dropped" if s.dropped else "✓"
        extra = " ".join(k for k in STEP_FIELDS if getattr(s, k))
        return f"{mark} {extra}".strip()

    def _show_episode(self) -> None:
        a = self.ann
        q = f"{a.quality}/5" if a.quality else "—"
        reviewed = sum(1 for x in self.actions if x.index in a.steps)
        self.query_one("#episode-info", Static).update(
            f"[b]outcome[/] {a.outcome} (c)   [b]quality[/] {q} (1-5, 0 clears)   "
            f"[b]reviewed[/] {reviewed}/{len(self.actions)}   [b]dropped[/] {len(a.dropped)}")
        self._set_input("task", a.task or "")
        self._set_input("tags", ", ".join(a.tags))

    def _set_input(self, name: str, value: str) -> None:
        inp = self.query_one(f"#{name}", Input)
        if not inp.has_focus:  # never overwrite what the person is typing
            inp.value = value

    def _show_step(self) -> None:
        idx = self.current
        info = self.query_one("#info", Static)
        if idx is None:
            info.update("this bundle has no actions")
            return
        a = self.actions[self.query_one("#steps", DataTable).cursor_row]
        s = self.ann.step(idx)
        screens = " · ".join(p for p in (a.pre_screen, a.post_screen) if p) or "none"
        lines = [
            f"[b]step {idx}[/] {escape(a.kind)}  {_fmt_time(a.t_start)} → {_fmt_time(a.t_end)}",
            escape(a.describe()),
            f"[b]window[/] {escape(a.window or '—')}" + (f" ({escape(a.window_class)})" if a.window_class else ""),
            f"[b]screens[/] {escape(screens)} (o opens)",
            "[b red]DROPPED[/] (k keeps it)" if s.dropped else
            ("[green]reviewed[/]" if idx in self.ann.steps else "[dim]not reviewed yet[/]"),
        ]
        info.update("\n".join(lines))
        for name in STEP_FIELDS:
            self._set_input(name, getattr(s, name) or "")

    def _refresh_row(self, index: int) -> None:
        self.query_one("#steps", DataTable).update_cell(str(index), "status", self._status(index))

    def _append(self, changes: list[Change]) -> bool:
        """Append records; on refusal (e.g. a newer log) tell the person and keep the UI usable."""
        try:
            self.ann = annotate(self.bundle, changes, author=self.author, via="tui",
                                n_actions=len(self.actions))
        except WfError as exc:
            self.notify(exc.message + (f" — {exc.hint}" if exc.hint else ""), severity="error", timeout=10)
            return False
        for c in changes:
            if c.step is not None:
                self._refresh_row(c.step)
        self._show_episode()
        self._show_step()
        return True

    def _focus(self, widget: Input | DataTable[str]) -> None:
        # Immediately, not via Widget.focus()'s call_later: keys typed right after `e` must land
        # in the field, not in the step list (fast typists, pasted input over SSH).
        self.screen.set_focus(widget)

    def _advance(self) -> None:
        table = self.query_one("#steps", DataTable)
        if table.cursor_row < len(self.actions) - 1:
            table.move_cursor(row=table.cursor_row + 1)

    # ------------------------------------------------------------ events

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_step()

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, Input) and event.widget.id in STEP_FIELDS:
            self._editing_step = self.current

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._save_input(event.input)
        self._focus(self.query_one("#steps", DataTable))

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self._save_input(event.input)  # moving away with the mouse or Tab must not lose the text

    def _save_input(self, inp: Input) -> None:
        name = inp.id or ""
        value = inp.value
        if name in STEP_FIELDS:
            idx = self._editing_step
            if idx is None or value == (getattr(self.ann.step(idx), name) or ""):
                return
            self._append([Change(step=idx, values={name: value or None})])
        elif name == "task":
            if value == (self.ann.task or "") or (not value and not self.ann.task_annotated):
                return
            self._append([Change(values={"task": value or None})])
        elif name == "tags":
            try:
                wanted = list(dict.fromkeys(check_tag(t) for t in value.split(",") if t.strip()))
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
            add = tuple(t for t in wanted if t not in self.ann.tags)
            remove = tuple(t for t in self.ann.tags if t not in wanted)
            if add or remove:
                self._append([Change(tags_add=add, tags_remove=remove)])

    # ------------------------------------------------------------ actions (key bindings)

    def _mark(self, dropped: bool) -> None:
        idx = self.current
        if idx is not None and self._append([Change(step=idx, values={"dropped": dropped})]):
            self._advance()

    def action_drop(self) -> None:
        self._mark(True)

    def action_keep(self) -> None:
        self._mark(False)

    def action_next_unannotated(self) -> None:
        if not self.actions:
            return
        table = self.query_one("#steps", DataTable)
        n = len(self.actions)
        for k in range(1, n + 1):
            row = (table.cursor_row + k) % n
            if self.actions[row].index not in self.ann.steps:
                table.move_cursor(row=row)
                return
        self.notify("every step has been reviewed")

    def action_edit(self, name: str) -> None:
        if name in STEP_FIELDS and self.current is None:
            return
        self._focus(self.query_one(f"#{name}", Input))

    def action_cancel_edit(self) -> None:
        focused = self.focused
        if isinstance(focused, Input):
            # Restore the saved value first, so the blur that follows has nothing to save.
            name = focused.id or ""
            if name in STEP_FIELDS and self.current is not None:
                focused.value = getattr(self.ann.step(self.current), name) or ""
            elif name == "task":
                focused.value = self.ann.task or ""
            elif name == "tags":
                focused.value = ", ".join(self.ann.tags)
        self._focus(self.query_one("#steps", DataTable))

    async def action_quit(self) -> None:
        if isinstance(self.focused, Input):
            self._save_input(self.focused)  # quitting from a field keeps what was typed
        self.exit(0)

    def action_cycle_outcome(self) -> None:
        nxt = OUTCOMES[(OUTCOMES.index(self.ann.outcome) + 1) % len(OUTCOMES)]
        self._append([Change(values={"outcome": nxt})])

    def action_quality(self, q: int) -> None:
        if q == (self.ann.quality or 0):
            return
        self._append([Change(values={"quality": q or None})])

    def action_open_screens(self) -> None:
        idx = self.current
        if idx is None:
            return
        a = self.actions[self.query_one("#steps", DataTable).cursor_row]
        paths = []
        for rel in (a.pre_screen, a.post_screen):
            if rel:
                try:
                    paths.append(self.bundle.screen_path(rel))
                except WfError as exc:
                    self.notify(exc.message, severity="error")
        if not paths:
            self.notify(f"step {idx} has no screens")
            return
        self.last_message = self.opener(paths)
        self.notify(self.last_message)


def run_tui(bundle: Bundle, *, author: str | None = None) -> int:
    """Load the steps and run the editor in the terminal; returns the exit code."""
    actions = load_actions(bundle)
    AnnotateApp(bundle, actions, author=author).run()
    return 0

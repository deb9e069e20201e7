"""Agent Data Protocol (ADP) export: one standardized trajectory per episode, API-style actions.

ADP (neulab/agent-data-protocol, ``schema/``; fields listed in docs/export.md) is the interlingua trainers
exchange agent trajectories in. A trajectory is ``{"schema_version", "id", "content", "details"}``;
``content`` interleaves observations and actions, each tagged by ``class_``. wf writes what ADP's own
AgentNet converter (``datasets/agentnet/raw_to_standardized.py``) writes for the same kind of data —

    text_observation (the instruction, source "user")
    image_observation (the first screen)  →  api_action (step 0)  →  image_observation (its result) → …

— with each step's pyautogui call as ``function`` / ``kwargs`` (AgentNet's names: ``click``,
``doubleClick``, ``write``, ``hotkey`` …, coordinates 0–1 by default), the annotated thought (else the
note) as ``description``, and each action linked to the screen it produced by a shared ``tool_call_id``
(``call_000001`` …, as ADP 1.5's ``create_trajectory_with_tool_call_links`` numbers them). A successful or
failed episode ends with ``terminate(status=…)``. Images are files under ``images/``, the observation's
``content`` their path relative to the output directory.
"""

from __future__ import annotations

import itertools
from typing import Any

from wf.export.steps import Episode, StepRow
from wf.export.writer import JsonlWithImages

SCHEMA_VERSION = "1.5.0"  # ADP's schema/version.py SCHEMA_VERSION this export follows
JSONL = "adp.jsonl"
_CLICKS = {("left", 1): "click", ("left", 2): "doubleClick", ("left", 3): "tripleClick", ("right", 1): "rightClick",
           ("middle", 1): "middleClick"}


def api_call(s: StepRow) -> tuple[str, dict[str, Any]]:
    """The step as a pyautogui function name and keyword arguments (positions in the export's coords)."""
    a = s.action
    kind = s.kind
    at = {"x": a.get("x"), "y": a.get("y")}
    mods = list(a.get("modifiers") or [])
    extra: dict[str, Any] = {"hold": mods} if mods else {}  # keys held around it (pyautogui.hold)
    if kind == "move":
        return "moveTo", at
    if kind == "click":
        button, count = a.get("button"), int(a.get("count") or 1)
        name = _CLICKS.get((str(button), count))
        kwargs = at if name else {**at, "button": button, "clicks": count}
        if a.get("keys"):
            extra["press"] = list(a["keys"])  # keys pressed while the button was held
        return name or "click", {**kwargs, **extra}
    if kind == "drag":
        return "dragTo", {"x": a.get("end_x"), "y": a.get("end_y"), "button": a.get("button"),
                          "start_x": a.get("x"), "start_y": a.get("y"), **extra}
    if kind == "scroll":
        dx, dy = int(a.get("dx") or 0), int(a.get("dy") or 0)
        if dy or not dx:
            return "scroll", {"clicks": dy, **at, **({"hclicks": dx} if dx else {}), **extra}
        return "hscroll", {"clicks": dx, **at, **extra}
    if kind == "type":
        return "write", {"message": a.get("text") or ""}
    if kind in ("key", "hotkey"):
        keys = list(a.get("keys") or [])
        count = int(a.get("count") or 1)
        presses = {"presses": count} if count > 1 else {}
        if kind == "key":
            return "press", {"key": keys[-1] if keys else "", **presses}
        return "hotkey", {"keys": keys, **presses}
    if kind == "wait":
        return "wait", {"seconds": a.get("duration")}
    return kind, {}


def trajectory(ep: Episode, image: Any) -> dict[str, Any]:
    """The ADP trajectory of one episode; ``image(ref)`` stores a screen and returns its path."""
    content: list[dict[str, Any]] = [
        {"class_": "text_observation", "content": ep.instruction or "", "source": "user"}]
    shown: str | None = None  # the screen the last observation shows

    def observe(ref: Any) -> None:
        nonlocal shown
        path = image(ref)
        if path is not None and path != shown:
            content.append({"class_": "image_observation", "content": path, "annotations": None,
                            "source": "environment"})
            shown = path

    for s in ep.steps:
        observe(s.pre)
        function, kwargs = api_call(s)
        content.append({"class_": "api_action", "function": function, "kwargs": kwargs,
                        "description": s.thought or s.note})
        shown = None  # the action's result is a new observation, even of an unchanged screen
        observe(s.post)
    if ep.outcome in ("success", "failure") and ep.steps:
        content.append({"class_": "api_action", "function": "terminate", "kwargs": {"status": ep.outcome},
                        "description": None})
    _link_tool_calls(content)
    details = {"dataset": "wf", "bundle": ep.name, "outcome": ep.outcome, "coords": ep.coords,
               "screen": f"{ep.screen[0]}x{ep.screen[1]}", "wf_steps": ",".join(str(s.step) for s in ep.steps)}
    if ep.tags:
        details["tags"] = ",".join(ep.tags)
    if ep.quality is not None:
        details["quality"] = str(ep.quality)
    return {"schema_version": SCHEMA_VERSION, "id": ep.episode_id, "content": content, "details": details}


def _link_tool_calls(content: list[dict[str, Any]]) -> None:
    """An action followed by an observation shares a ``tool_call_id`` with it (ADP 1.5 requires it)."""
    n = 0
    for item, nxt in itertools.pairwise(content):
        if item["class_"] == "api_action" and nxt["class_"].endswith("_observation"):
            n += 1
            item["tool_call_id"] = nxt["tool_call_id"] = f"call_{n:06d}"


class ADPExport(JsonlWithImages):
    JSONL = JSONL

    def add(self, episode: Episode) -> None:
        self.write_line(trajectory(episode, self._image), episode)

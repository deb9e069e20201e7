"""AgentNet-style (OpenCUA) export: one JSON line per episode, the screen seen BEFORE each action.

``agentnet.jsonl`` holds ``{"task_id", "instruction", "traj": [{"index", "image", "value": {"code", ...}}]}``
with pyautogui code in 0–1 coordinates by default, as AgentNet does; ``image`` is a path relative to the
output directory (``images/{task_id}/{hash}.png``, one file per distinct screen). A successful or failed
episode ends with AgentNet's ``computer.terminate(status=...)`` step on the final screen.
"""

from __future__ import annotations

from typing import Any

from wf.export.steps import Episode
from wf.export.writer import JsonlWithImages

JSONL = "agentnet.jsonl"


class AgentNetExport(JsonlWithImages):
    JSONL = JSONL

    def add(self, episode: Episode) -> None:
        traj: list[dict[str, Any]] = []
        for s in episode.steps:
            traj.append({
                "index": len(traj),
                "image": self._image(s.pre),
                "value": {
                    "code": s.code,
                    "action": s.note or s.description,
                    "thought": s.thought,
                    "observation": None,
                },
                "step": s.step,
                "action_type": s.kind,
                "window_title": s.window_title,
                "label": s.label,
                "dropped": s.dropped,
                "effect": s.effect,
                "screen_effect": s.screen_effect,
            })
        if episode.outcome in ("success", "failure") and episode.steps:
            # AgentNet closes every trajectory with terminate on the final screen.
            last = episode.steps[-1]
            traj.append({
                "index": len(traj),
                "image": self._image(last.post),
                "value": {"code": f"computer.terminate(status='{episode.outcome}')",
                          "action": f"Terminate: {episode.outcome}", "thought": None, "observation": None},
                "step": None,
                "action_type": "done",
                "window_title": last.window_title,
                "label": None,
                "dropped": False,
                "effect": None,
                "screen_effect": None,
            })
        line = {
            "task_id": episode.episode_id,
            "instruction": episode.instruction,
            "outcome": episode.outcome,
            "verdict": episode.verdict,
            "tags": list(episode.tags),
            "quality": episode.quality,
            "quality_score": episode.quality_score,
            "quality_components": episode.quality_components,
            "screen": {"width": episode.screen[0], "height": episode.screen[1]},
            "coords": episode.coords,
            "traj": traj,
        }
        self.write_line(line, episode)

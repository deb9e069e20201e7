"""AgentNet-style (OpenCUA) export: one JSON line per episode, the screen seen BEFORE each action.

``agentnet.jsonl`` holds ``{"task_id", "instruction", "traj": [{"index", "image", "value": {"code", ...}}]}``
with pyautogui code in 0–1 coordinates by default, as AgentNet does; ``image`` is a path relative to the
output directory (``images/{task_id}/{hash}.png``, one file per distinct screen). A successful or failed
episode ends with AgentNet's ``computer.terminate(status=...)`` step on the final screen.
"""

from __future__ import annotations

from typing import Any

import orjson

from wf.export.images import ImageRef
from wf.export.steps import Episode
from wf.export.writer import OutputFile, WriterConfig

JSONL = "agentnet.jsonl"
IMAGES_DIR = "images"


class AgentNetExport:
    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        self._fh = (cfg.out / JSONL).open("wb")
        self._file = OutputFile(JSONL)
        self._images = OutputFile(IMAGES_DIR + "/")
        self._written: set[str] = set()

    def _image(self, ref: ImageRef | None) -> str | None:
        if ref is None:
            return None
        rel = f"{IMAGES_DIR}/{ref.name}"
        if rel not in self._written:
            dst = self.cfg.out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = ref.read()
            dst.write_bytes(data)
            self._written.add(rel)
            self._images.bytes += len(data)
        return rel

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
        data = orjson.dumps(line) + b"\n"
        self._fh.write(data)
        self._file.bytes += len(data)
        self._file.steps += len(episode.steps)
        self._file.episodes += 1
        self._images.episodes += 1
        self._images.steps += len(episode.steps)

    def close(self) -> list[OutputFile]:
        self._fh.close()
        return [self._file, self._images]

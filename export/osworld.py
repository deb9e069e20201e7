"""OSWorld-style export: a result directory per episode, the screen AFTER each action, as OSWorld saves it.

``{episode_id}/traj.jsonl`` has one line per step: ``step_num`` (1-based), ``action_timestamp``
(``%Y%m%d@%H%M%S`` wall time of the action's end), ``action`` (pyautogui code, pixel coordinates by
default, as OSWorld's ``pyautogui`` action space uses), ``reward`` (0), ``done`` (true on the last step),
``info`` and ``screenshot_file`` (``step_{n}_{timestamp}.png`` in the same directory). ``result.txt`` holds
the score OSWorld would (1.0 success, 0.0 failure; absent when the outcome is not known), and
``example.json`` the instruction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from wf.export.steps import Episode
from wf.export.writer import OutputFile, WriterConfig

TIMESTAMP_FORMAT = "%Y%m%d@%H%M%S"
SCORES = {"success": 1.0, "failure": 0.0}


def action_timestamp(started: str, t: float) -> str:
    try:
        start = datetime.fromisoformat(started)
    except ValueError:
        return "00000000@000000"
    return (start + timedelta(seconds=t)).strftime(TIMESTAMP_FORMAT)


class OSWorldExport:
    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        self.files: list[OutputFile] = []

    def add(self, episode: Episode) -> None:
        d = self.cfg.out / episode.episode_id
        d.mkdir(parents=True, exist_ok=True)
        f = OutputFile(episode.episode_id + "/", episodes=1)
        lines = bytearray()
        n = len(episode.steps)
        for i, s in enumerate(episode.steps, start=1):
            ts = action_timestamp(episode.started, s.t_end)
            shot = None
            if s.post is not None:
                shot = f"step_{i}_{ts}.{s.post.ext}"
                data = s.post.read()
                (d / shot).write_bytes(data)
                f.bytes += len(data)
            lines += orjson.dumps({
                "step_num": i,
                "action_timestamp": ts,
                "action": s.code,
                "response": s.thought or s.note,
                "reward": 0,
                "done": i == n,
                "info": {"wf_step": s.step, "action_type": s.kind, "description": s.description,
                         "window_title": s.window_title, "dropped": s.dropped, "effect": s.effect,
                         "screen_effect": s.screen_effect},
                "screenshot_file": shot,
            }) + b"\n"
            f.steps += 1
        (d / "traj.jsonl").write_bytes(bytes(lines))
        example = orjson.dumps({"id": episode.episode_id, "instruction": episode.instruction,
                                "outcome": episode.outcome, "verdict": episode.verdict, "coords": episode.coords,
                                "quality_score": episode.quality_score,
                                "quality_components": episode.quality_components,
                                "screen": {"width": episode.screen[0], "height": episode.screen[1]}},
                               option=orjson.OPT_INDENT_2)
        (d / "example.json").write_bytes(example + b"\n")
        f.bytes += len(lines) + len(example) + 1
        if episode.outcome in SCORES:
            result = f"{SCORES[episode.outcome]}\n".encode()
            (d / "result.txt").write_bytes(result)
            f.bytes += len(result)
        self.files.append(f)

    def close(self) -> list[OutputFile]:
        return self.files

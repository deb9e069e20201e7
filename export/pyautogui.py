"""pyautogui export: one standalone Python script per bundle that performs the recorded task again.

The script is ``to_pyautogui_program`` of the kept (not dropped) actions; run it with ``python FILE.py`` on
a display showing the app in the state the recording started from.
"""

from __future__ import annotations

import os

from wf.export.steps import Episode
from wf.export.writer import OutputFile, WriterConfig


class PyautoguiExport:
    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        self.files: list[OutputFile] = []

    def add(self, episode: Episode) -> None:
        rel = f"{episode.episode_id}.py"
        text = (episode.program or "").encode()
        path = self.cfg.out / rel
        path.write_bytes(text)
        os.chmod(path, 0o755)
        self.files.append(OutputFile(rel, bytes=len(text), steps=len(episode.steps), episodes=1))

    def close(self) -> list[OutputFile]:
        return self.files

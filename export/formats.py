"""The export formats, listed once: one module per format, each a ``FormatWriter``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from wf.export.adp import ADPExport
from wf.export.agentnet import AgentNetExport
from wf.export.osworld import OSWorldExport
from wf.export.pyautogui import PyautoguiExport
from wf.export.webdataset import WebDatasetExport
from wf.export.writer import FormatWriter, WriterConfig

FormatName = Literal["parquet", "webdataset", "agentnet", "osworld", "pyautogui", "adp"]
FORMATS: tuple[FormatName, ...] = get_args(FormatName)


def _parquet(cfg: WriterConfig) -> FormatWriter:
    from wf.export.parquet import ParquetExport  # imported only when asked for: pyarrow takes ~0.25 s to load

    return ParquetExport(cfg)


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: FormatName
    coords: str  # the format's own coordinate convention unless --coords says otherwise (ANCHORS.md)
    make: Callable[[WriterConfig], FormatWriter]
    images: bool = True  # rows carry the screenshots
    program: bool = False  # episodes carry the pyautogui program


REGISTRY: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("parquet", "pixels", _parquet),
    ExportFormat("webdataset", "pixels", WebDatasetExport),
    ExportFormat("agentnet", "unit", AgentNetExport),
    ExportFormat("osworld", "pixels", OSWorldExport),
    ExportFormat("pyautogui", "pixels", PyautoguiExport, images=False, program=True),
    ExportFormat("adp", "unit", ADPExport),  # Agent Data Protocol: 0–1 coordinates, as its AgentNet data
)}

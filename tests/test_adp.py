"""`wf export --format adp` checked against the Agent Data Protocol's published schema.

The schema is neulab/agent-data-protocol's ``schema/`` (pydantic models, ``extra="forbid"``):
``trajectory.py`` (``schema_version`` ∈ SUPPORTED_SCHEMA_VERSIONS of ``version.py``, ``id``, ``content``,
``details``, and the tool-call link rules: an api/code action followed by an observation carries a
``tool_call_id`` that the observation repeats, each id used once per side), ``action/action.py`` +
``action/api.py`` (``class_`` "api_action", ``function``, ``kwargs``, ``description``, ``reasoning_content``,
``reward``, and the ``tool_call_id`` the 1.5 link rules put on it), ``action/message.py``,
``observation/observation.py`` (``tool_call_id``, ``reward``), ``observation/text.py`` and
``observation/image.py`` (``content`` = path, ``annotations``, ``source``). Mirrored below as msgspec
structs that refuse unknown fields, so an extra, a missing or a mistyped field fails here as it would in
ADP's own validation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import msgspec
import pytest
from export_fixture import drag_bundle, header, synthetic_bundle

from wf.bundle.annotation_log import annotate
from wf.bundle.annotations import Change
from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll, Stop, Window
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter
from wf.export.pipeline import ExportOptions, export

SUPPORTED_SCHEMA_VERSIONS = ("1.5.0", "1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0")  # ADP schema/version.py


class ApiAction(msgspec.Struct, forbid_unknown_fields=True, tag_field="class_", tag="api_action"):
    function: str
    kwargs: dict[str, Any]
    description: str | None = None
    reasoning_content: str | None = None
    reward: float | None = None
    tool_call_id: str | None = None


class MessageAction(msgspec.Struct, forbid_unknown_fields=True, tag_field="class_", tag="message_action"):
    content: str
    description: str | None = None
    reasoning_content: str | None = None
    reward: float | None = None


class TextObservation(msgspec.Struct, forbid_unknown_fields=True, tag_field="class_", tag="text_observation"):
    content: str
    source: Literal["system", "user", "assistant"]
    tool_call_id: str | None = None
    reward: float | None = None


class BoundingBox(msgspec.Struct, forbid_unknown_fields=True):
    x: float
    y: float
    width: float
    height: float


class ImageAnnotation(msgspec.Struct, forbid_unknown_fields=True):
    element_type: str
    bounding_box: BoundingBox
    text: str | None
    content_description: str | None = None
    clickable: bool | None = None
    editable: bool | None = None


class ImageObservation(msgspec.Struct, forbid_unknown_fields=True, tag_field="class_", tag="image_observation"):
    content: str  # a path to the image
    source: Literal["user", "agent", "environment"]
    annotations: list[ImageAnnotation] | None = None
    tool_call_id: str | None = None
    reward: float | None = None


Item = ApiAction | MessageAction | TextObservation | ImageObservation
OBSERVATIONS = (TextObservation, ImageObservation)


class Trajectory(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    content: list[Item]
    schema_version: str = "1.5.0"
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    available_custom_tools: list[str] | None = None
    available_code_languages: list[str] | None = None


def validate(line: bytes) -> Trajectory:
    """Decode one trajectory and apply ADP's trajectory-level rules."""
    t = msgspec.json.decode(line, type=Trajectory)
    if t.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ValueError(f"unsupported schema_version {t.schema_version!r}")
    actions: dict[str, int] = {}
    results: set[str] = set()
    for i, item in enumerate(t.content):
        nxt = t.content[i + 1] if i + 1 < len(t.content) else None
        if isinstance(item, ApiAction) and isinstance(nxt, OBSERVATIONS) and item.tool_call_id is None:
            raise ValueError(f"action at {i} is followed by an observation but has no tool_call_id")
        if item.__class__ is MessageAction or getattr(item, "tool_call_id", None) is None:
            continue
        tid = item.tool_call_id  # type: ignore[union-attr]  # narrowed by the getattr above
        if isinstance(item, ApiAction):
            if tid in actions:
                raise ValueError(f"duplicate action tool_call_id {tid}")
            actions[tid] = i
        else:
            if tid not in actions or tid in results:
                raise ValueError(f"observation tool_call_id {tid} at {i} matches no earlier action (or twice)")
            results.add(tid)
    if set(actions) != results:
        raise ValueError(f"actions without a result: {sorted(set(actions) - results)}")
    return t


def test_the_schema_mirror_refuses_what_adp_refuses() -> None:
    """The validator can fail: an unknown field, a wrong source, an unlinked action, a bad version."""
    ok = {"id": "e", "schema_version": "1.5.0", "details": {}, "content": [
        {"class_": "text_observation", "content": "do it", "source": "user"},
        {"class_": "api_action", "function": "click", "kwargs": {"x": 0.1, "y": 0.2}, "tool_call_id": "call_1"},
        {"class_": "image_observation", "content": "images/a.png", "source": "environment",
         "tool_call_id": "call_1"}]}
    validate(json.dumps(ok).encode())
    bad_cases = [
        {**ok, "extra": 1},
        {**ok, "schema_version": "9.0.0"},
        {**ok, "content": [*ok["content"][:1], {**ok["content"][1], "thoughts": "x"}, ok["content"][2]]},
        {**ok, "content": [*ok["content"][:2], {**ok["content"][2], "source": "screen"}]},
        {**ok, "content": [ok["content"][0], {**ok["content"][1], "tool_call_id": None},
                           {**ok["content"][2], "tool_call_id": None}]},
        {**ok, "content": [*ok["content"][:2], {**ok["content"][2], "tool_call_id": "call_2"}]},
    ]
    for case in bad_cases:
        with pytest.raises((msgspec.ValidationError, ValueError)):
            validate(json.dumps(case).encode())


def keyboard_bundle(path: Path) -> Path:
    """A double click, a right click, typing, a hotkey, wheel notches and a drag: every action kind."""
    w, h = 200, 100
    with BundleWriter(path, header(w, h, "type and scroll", "2026-11-26T23:40:00+00:00")) as bw:
        bw.write(Window(t=0.0, title="t", wm_class="T", width=w, height=h))
        bw.screen_event(0.0, bytes(w * h * 3), w, h, "start")
        t = 0.1
        for _ in range(2):  # a double click at (50, 20)
            bw.write(MouseDown(t=t, x=50, y=20, button="left"))
            bw.write(MouseUp(t=t + 0.02, x=50, y=20, button="left"))
            t += 0.1
        t += 1.0
        bw.write(MouseDown(t=t, x=150, y=80, button="right"))
        bw.write(MouseUp(t=t + 0.02, x=150, y=80, button="right"))
        t += 1.0
        for ch in "hi":
            bw.write(KeyDown(t=t, key=ch, char=ch))
            bw.write(KeyUp(t=t + 0.02, key=ch, char=ch))
            t += 0.1
        t += 1.0
        bw.write(KeyDown(t=t, key="ctrl"))
        bw.write(KeyDown(t=t + 0.05, key="a", char="a"))
        bw.write(KeyUp(t=t + 0.1, key="a", char="a"))
        bw.write(KeyUp(t=t + 0.15, key="ctrl"))
        t += 1.0
        bw.write(MouseMove(t=t, x=100, y=50))
        for i in range(3):
            bw.write(Scroll(t=t + 0.05 * (i + 1), x=100, y=50, dx=0, dy=-1))
        t += 1.0
        bw.screen_event(t, bytes([255]) * (w * h * 3), w, h, "post")
        bw.write(Stop(t=t + 0.1, reason="test", events=0, dropped=0, screens=2))
    return path


def read_lines(out: Path) -> list[bytes]:
    return (out / "adp.jsonl").read_bytes().splitlines()


def test_every_trajectory_validates_and_follows_adp_agentnet_shape(tmp_path: Path) -> None:
    bundles = [synthetic_bundle(tmp_path / f"b{i}", 3, seed=i + 1) for i in range(2)]
    annotate(Bundle.open(bundles[1]), [Change(values={"task": "Click three squares", "outcome": "success"}),
                                       Change(step=1, values={"note": "the middle one", "thought": "aim low"})],
             n_actions=3, author="test")
    m = export(bundles, ExportOptions(format="adp", out=tmp_path / "adp"))
    assert m.coords == "unit" and m.steps == 6
    lines = read_lines(tmp_path / "adp")
    assert len(lines) == 2
    trajs = [validate(line) for line in lines]
    for t, ep in zip(trajs, m.bundles, strict=True):
        assert t.id == ep.episode_id and t.schema_version == "1.5.0"
        assert isinstance(t.content[0], TextObservation) and t.content[0].source == "user"
        assert isinstance(t.content[1], ImageObservation)  # the screen before the first action
        actions = [c for c in t.content if isinstance(c, ApiAction)]
        for c in t.content:
            if isinstance(c, ImageObservation):
                assert (tmp_path / "adp" / c.content).is_file()
        assert t.details["dataset"] == "wf" and t.details["coords"] == "unit"
        assert t.details["wf_steps"] == "0,1,2"
        clicks = [a for a in actions if a.function == "click"]
        assert len(clicks) == 3
        assert all(0 <= a.kwargs["x"] <= 1 and 0 <= a.kwargs["y"] <= 1 for a in clicks)
    plain, annotated = trajs
    assert plain.content[0].content == "synthetic task"  # type: ignore[union-attr]
    assert not any(isinstance(a, ApiAction) and a.function == "terminate" for a in plain.content)
    assert annotated.content[0].content == "Click three squares"  # type: ignore[union-attr]
    last = annotated.content[-1]
    assert isinstance(last, ApiAction) and last.function == "terminate" and last.kwargs == {"status": "success"}
    described = [a.description for a in annotated.content if isinstance(a, ApiAction)]
    assert described == [None, "aim low", None, None]  # the thought, where one was annotated


def test_each_action_kind_maps_to_its_pyautogui_call(tmp_path: Path) -> None:
    b = keyboard_bundle(tmp_path / "k")
    d = drag_bundle(tmp_path / "d")
    m = export([b, d], ExportOptions(format="adp", out=tmp_path / "adp", coords="pixels"))
    assert m.skipped == []
    calls = [[(a.function, a.kwargs) for a in validate(line).content if isinstance(a, ApiAction)]
             for line in read_lines(tmp_path / "adp")]
    assert calls[0] == [
        ("doubleClick", {"x": 50, "y": 20}),
        ("rightClick", {"x": 150, "y": 80}),
        ("write", {"message": "hi"}),
        ("hotkey", {"keys": ["ctrl", "a"]}),
        ("scroll", {"clicks": -3, "x": 100, "y": 50}),
    ]
    assert calls[1][0] == ("dragTo", {"x": 700, "y": 420, "button": "left", "start_x": 100, "start_y": 100})
    assert calls[1][1] == ("click", {"x": 1279, "y": 799})

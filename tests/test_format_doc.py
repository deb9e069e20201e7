"""docs/format.md is normative: every JSON example in it must parse with the real reader."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import orjson

from wf.bundle.events import EVENT_TYPES, Event, Header, Source

DOC = Path(__file__).resolve().parent.parent / "docs" / "format.md"


def json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_header_and_every_event_type() -> None:
    blocks = json_blocks()
    assert len(blocks) >= 2
    header = msgspec.json.decode(blocks[0].encode(), type=Header)
    assert header.format == "wf-bundle" and header.version == 1
    seen = set()
    for line in blocks[1].strip().splitlines():
        ev = msgspec.json.decode(line.encode(), type=Event)
        seen.add(type(ev).__struct_config__.tag)
    assert seen == set(EVENT_TYPES), f"types without an example: {set(EVENT_TYPES) - seen}"


def test_every_event_type_is_in_the_table() -> None:
    text = DOC.read_text()
    for name in EVENT_TYPES:
        assert f"| `{name}`" in text or f"`{name}` /" in text or f"/ `{name}`" in text, name


def test_examples_are_valid_json_objects() -> None:
    for block in json_blocks()[1:]:
        for line in block.strip().splitlines():
            assert isinstance(orjson.loads(line), dict)


def test_split_source_example_decodes() -> None:
    (block,) = [b for b in json_blocks() if '"first_event"' in b]
    src = msgspec.json.decode(block.strip().encode(), type=Source)
    assert (src.part, src.parts, src.reason) == (2, 3, "mark")

"""Which parts of a bundle's JSON lines are structure — provably not a secret — and which are text.

One rule, used both to scrub (text is scrubbed, structure left alone) and to prove (a scrubbed literal
found inside structure is *incidental*, anywhere else a *survivor*). A JSON token is structure only when
it is one of:

* a **field name** the format defines at that place (``t``, ``title``, ``screen.monitors``…), or a key of
  a ``redactions`` entry as `wf redact` writes them (:data:`REDACTION_KEYS`);
* a **number, boolean or null** in a field the format types as one (times, coordinates, sizes, ids, key
  codes, counts): wf writes measurements there, never text;
* a value of a **closed vocabulary**: a field typed as a ``Literal`` (event type, screen reason, mouse
  button, redacted kind, ``format``, annotation ``outcome``), a **named key** (``key`` longer than one
  character — ``enter``, ``shift``, ``f5``: one key, which cannot spell a typed literal; a one-character
  key name is the character typed, and counts as text), wf's own **timestamps** (``started``, ``at``:
  ISO-8601 times that parse), and the words `wf redact` writes in its entries (``by``, ``version``,
  ``presets``, ``drop_steps``, ``engine``);
* a screen's **content hash and path**, when the proof re-computes the hash from the pixels of the file
  the line names and they agree (the name is then a function of the pixels).

Everything else is text: titles, classes, marks, reasons, typed characters, the task, the launch
command, recorder options, unknown fields and unknown event types. A line that is not JSON is text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import msgspec.inspect as mi

from wf.bundle.annotations import OUTCOMES
from wf.bundle.events import EVENT_TYPES, Header
from wf.redact.presets import PRESETS
from wf.redact.text import scrub_text

JsonPath = tuple[str | int, ...]
Role = Literal["key", "value"]
Classifier = Callable[[JsonPath, Role, object], bool]  # True: structure

# Keys of the entries `wf redact` appends to the header's `redactions` (wf.redact.redactor._new_header).
REDACTION_KEYS = frozenset({
    "by", "version", "at", "scrub", "patterns", "presets", "literals", "key_events", "mask_window", "windows",
    "mask_rect", "x", "y", "w", "h", "t1", "t2", "screens_masked", "drop_steps", "events_removed",
    "ocr", "engine", "screens_read", "boxes"})
_REDACTION_WORDS = ("by", "version", "at", "presets", "drop_steps", "engine")
# Annotation records (docs/annotations.md): the envelope, the tag lists, and the fields a change sets.
ANNOTATION_KEYS = frozenset({"v", "at", "author", "via", "step", "set", "tags", "untags", "tags_add", "tags_remove",
                             "task", "outcome", "quality", "note", "thought", "label", "dropped"})
_ANNOTATION_TYPED = {"v": int, "step": int, "quality": int, "dropped": bool}
_HEADER = mi.type_info(Header)
_EVENTS = {tag: mi.type_info(cls) for tag, cls in EVENT_TYPES.items()}
_VERSION = re.compile(r"\d+(?:\.\d+)*[0-9A-Za-z.+-]*")
_STEPS = re.compile(r"\d*:\d*")


def _timestamp(value: object) -> bool:
    if not isinstance(value, str) or not value[:4].isdigit():
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _named_key(value: object) -> bool:
    return isinstance(value, str) and len(value) > 1


def _unwrap(t: mi.Type) -> mi.Type:
    if isinstance(t, mi.UnionType):  # `X | None`: the declared X
        inner = [u for u in t.types if not isinstance(u, mi.NoneType)]
        return inner[0] if len(inner) == 1 else t
    return t


def _declared(root: mi.Type, path: JsonPath) -> mi.Type | None:
    """The type the format declares at ``path``; None once the path leaves typed structure."""
    t: mi.Type = root
    for p in path:
        t = _unwrap(t)
        if isinstance(t, mi.StructType):
            field = next((f for f in t.fields if f.encode_name == p), None)
            if field is None:
                return None
            t = field.type
        elif isinstance(t, mi.ListType) and isinstance(p, int):
            t = t.item_type
        elif isinstance(t, mi.TupleType) and isinstance(p, int) and p < len(t.item_types):
            t = t.item_types[p]
        else:
            return None
    return _unwrap(t)


def _typed_scalar(t: mi.Type | None, value: object, key: str | int | None) -> bool:
    """A scalar the format declares: numbers and booleans where it types them, closed vocabularies."""
    if t is None:
        return False
    if isinstance(t, mi.LiteralType):
        return value in t.values
    if isinstance(t, mi.BoolType | mi.NoneType):
        return isinstance(value, bool) or value is None
    if isinstance(t, mi.IntType | mi.FloatType):
        return isinstance(value, int | float) or value is None
    if isinstance(t, mi.StrType):
        return (key == "key" and _named_key(value)) or (key == "started" and _timestamp(value))
    return False


def _is_field(root: mi.Type, path: JsonPath) -> bool:
    """``path`` ends in a field name of the struct that holds it."""
    return bool(path) and isinstance(_declared(root, path[:-1]), mi.StructType) and _declared(root, path) is not None


def header_structure(path: JsonPath, role: Role, value: object) -> bool:
    if path[:1] == ("redactions",) and len(path) >= 3:
        return _redaction_structure(path[2:], role, value)
    if role == "key":
        return _is_field(_HEADER, path)
    return _typed_scalar(_declared(_HEADER, path), value, path[-1] if path else None)


def _redaction_structure(path: JsonPath, role: Role, value: object) -> bool:
    """Inside one entry of ``redactions``: wf redact's keys, its numbers, and its own words."""
    keys = [p for p in path if isinstance(p, str)]
    if not keys or any(k not in REDACTION_KEYS for k in keys):
        return False
    if role == "key" or isinstance(value, bool | int | float) or value is None:
        return True
    last = keys[-1]
    if last not in _REDACTION_WORDS or not isinstance(value, str):
        return False
    return {"by": value == "wf redact", "at": _timestamp(value), "version": bool(_VERSION.fullmatch(value)),
            "presets": value in PRESETS, "drop_steps": bool(_STEPS.fullmatch(value)),
            "engine": True}[last]  # the OCR engine's name: wf's own words


def event_structure(path: JsonPath, role: Role, value: object, event_type: object) -> bool:
    """Structure of an event line of type ``event_type`` (screen hash and path excepted: see the proof)."""
    root = _EVENTS.get(event_type) if isinstance(event_type, str) else None
    if root is None or len(path) != 1:
        return False
    if path == ("type",):
        return True  # the tag: its value is the known type looked up above
    if role == "key":
        return _is_field(root, path)
    return _typed_scalar(_declared(root, path), value, path[0])


def annotation_structure(path: JsonPath, role: Role, value: object) -> bool:
    keys = [p for p in path if isinstance(p, str)]
    if len(path) > 2 or not keys or any(k not in ANNOTATION_KEYS for k in keys) or \
            (len(path) == 2 and path[0] != "set"):
        return False
    if role == "key":
        return True
    last = keys[-1]
    if last == "at":
        return _timestamp(value)
    if last == "outcome":
        return value in OUTCOMES
    kind = _ANNOTATION_TYPED.get(last)
    return kind is not None and (value is None or (isinstance(value, kind) and
                                                   (kind is bool or not isinstance(value, bool))))


# ------------------------------------------------------------------------------------ tokens


@dataclass(frozen=True, slots=True)
class Token:
    """A key or a scalar of a JSON line: its byte span, where it sits, and its decoded value."""

    start: int
    end: int
    path: JsonPath
    role: Role
    value: object


_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def tokens(line: bytes) -> list[Token] | None:
    """Every key and scalar of one JSON line with its byte span; None when the line is not JSON."""
    try:
        s = line.decode("utf-8")
        out: list[Token] = []
        end = _walk(s, _skip(s, 0), (), out)
    except (UnicodeDecodeError, ValueError, IndexError, RecursionError):
        return None
    if _skip(s, end) != len(s):
        return None
    if not s.isascii():  # character offsets -> byte offsets
        offs = [0]
        for ch in s:
            offs.append(offs[-1] + len(ch.encode("utf-8")))
        out = [Token(offs[t.start], offs[t.end], t.path, t.role, t.value) for t in out]
    return out


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _walk(s: str, i: int, path: JsonPath, out: list[Token]) -> int:
    """Tokens of the value starting at ``i`` (the stdlib decodes each scalar); returns where it ends."""
    opener = s[i]
    if opener not in "{[":
        value, end = _DECODER.raw_decode(s, i)
        out.append(Token(i, end, path, "value", value))
        return end
    closer = "}" if opener == "{" else "]"
    i = _skip(s, i + 1)
    n = 0
    if s[i] == closer:
        return i + 1
    while True:
        if opener == "{":
            if s[i] != '"':
                raise ValueError("expected a key")
            key, j = json.decoder.scanstring(s, i + 1)  # type: ignore[attr-defined]  # public, untyped in typeshed
            out.append(Token(i, j, (*path, key), "key", key))
            i = _skip(s, j)
            if s[i] != ":":
                raise ValueError("expected ':'")
            i = _walk(s, _skip(s, i + 1), (*path, key), out)
        else:
            i = _walk(s, i, (*path, n), out)
            n += 1
        i = _skip(s, i)
        if s[i] == closer:
            return i + 1
        if s[i] != ",":
            raise ValueError("expected ','")
        i = _skip(s, i + 1)


# ------------------------------------------------------------------------------------ scrubbing


def scrub_tree(obj: object, literals: Iterable[str], structure: Classifier, path: JsonPath = ()) -> object:
    """A copy of a JSON-like value with the literals scrubbed from every key and string that is text."""
    lits = literals if isinstance(literals, list | tuple) else list(literals)
    if isinstance(obj, str):
        return obj if structure(path, "value", obj) else scrub_text(obj, lits)
    if isinstance(obj, dict):
        out: dict[object, object] = {}
        for k, v in obj.items():
            sub = (*path, k)
            name = k if not isinstance(k, str) or structure(sub, "key", k) else scrub_text(k, lits)
            out[name] = scrub_tree(v, lits, structure, sub)
        return out
    if isinstance(obj, list | tuple):
        return [scrub_tree(v, lits, structure, (*path, n)) for n, v in enumerate(obj)]
    return obj


def text_strings(obj: object, structure: Classifier, path: JsonPath = ()) -> Iterable[str]:
    """Every key and string of a JSON-like value that is text (not structure)."""
    if isinstance(obj, str):
        if not structure(path, "value", obj):
            yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            sub = (*path, k)
            if isinstance(k, str) and not structure(sub, "key", k):
                yield k
            yield from text_strings(v, structure, sub)
    elif isinstance(obj, list | tuple):
        for n, v in enumerate(obj):
            yield from text_strings(v, structure, (*path, n))

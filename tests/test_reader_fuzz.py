"""Property test: mutated lines thrown at the reader may be rejected, never crash it."""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xrig import FIXTURES

from wf.bundle.errors import BundleError
from wf.bundle.reader import Bundle

VALID = (FIXTURES / "samples" / "valid" / "events.jsonl").read_bytes().splitlines(keepends=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    base = bytearray(draw(st.sampled_from(VALID[1:])).rstrip(b"\n"))
    how = draw(st.sampled_from(["flip", "cut", "insert", "replace_value", "garbage"]))
    if how == "flip" and base:
        i = draw(st.integers(0, len(base) - 1))
        base[i] = draw(st.integers(0, 255))
    elif how == "cut":
        base = base[: draw(st.integers(0, len(base)))]
    elif how == "insert":
        i = draw(st.integers(0, len(base)))
        base[i:i] = draw(st.binary(max_size=6))
    elif how == "replace_value":
        import orjson

        obj = orjson.loads(bytes(base))
        key = draw(st.sampled_from(sorted(obj)))
        obj[key] = draw(json_values)
        base = bytearray(orjson.dumps(obj))
    else:
        base = bytearray(draw(st.binary(max_size=40)))
    return bytes(base).replace(b"\n", b" ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(mutated_line(), min_size=1, max_size=3), pos=st.integers(1, len(VALID) - 1),
       newline_at_end=st.booleans())
def test_reader_rejects_or_reads_never_crashes(tmp_path_factory, lines, pos, newline_at_end) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(FIXTURES / "samples" / "valid", root / "b")
    data = b"".join(VALID[:pos]) + b"\n".join(lines) + b"\n" + b"".join(VALID[pos:])
    if not newline_at_end:
        data = data.rstrip(b"\n")
    (root / "b" / "events.jsonl").write_bytes(data)
    try:
        b = Bundle.open(root / "b")
        for ev in b.events():
            assert ev.t >= 0
    except BundleError as exc:
        assert "events.jsonl" in exc.message

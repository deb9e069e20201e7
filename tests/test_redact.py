"""`wf redact` on bundles written with the real BundleWriter: what is scrubbed, masked, dropped, and proved."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redact_kit import H, Recording, W, all_bytes

from wf.bundle.errors import BadInput
from wf.bundle.events import KeyDown, KeyUp, Redacted, Screen, Window
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb
from wf.bundle.validate import validate
from wf.cli.main import run
from wf.redact.presets import SECRETS, luhn_ok
from wf.redact.proof import prove_gone
from wf.redact.redactor import redact_bundle
from wf.redact.spec import build_spec, parse_rect
from wf.redact.typed import typed_text

TOKEN = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op2As4Df6Gh8Jk0LmNbVc"  # 36 characters after the prefix
PASSWORD = "Tr0ub4dor&3horse"


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def typed(root: Path) -> list[str]:
    t = typed_text(Bundle.open(root).events())
    return [s.text for s in t.segments()]


def events(root: Path) -> list:  # type: ignore[type-arg]
    return list(Bundle.open(root).events())


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A terminal where a token is typed (with a typo fixed by Backspace), a vault where a password is typed."""
    r = Recording(tmp_path / "src", task="deploy with the token")
    r.window("xterm", "xterm.XTerm")
    r.screen("start")
    r.type("export GH=" + TOKEN[:10] + "x\b" + TOKEN[10:] + "\n")
    r.screen()
    r.window("Vault - KeePassXC", "keepassxc.KeePassXC", 100, 50, 120, 80)
    r.screen("pre")
    r.type(PASSWORD + "\n")
    r.screen()
    r.window("notes", "gedit.Gedit")
    r.type("ask bob@example.com")
    r.mark("token was " + TOKEN)
    r.screen()
    return r.close()


# ------------------------------------------------------------------------------- typed text


def test_typed_text_applies_backspace_and_shift_and_keeps_event_indices(sample: Path) -> None:
    t = typed_text(Bundle.open(sample).events())
    edited = [s.text for s in t.edited]
    assert "export GH=" + TOKEN + "\n" in edited  # the typo and its Backspace are gone
    raw = [s.text for s in t.raw]
    assert "export GH=" + TOKEN[:10] + "x" + TOKEN[10:] + "\n" in raw  # raw keeps the typo
    evs = events(sample)
    seg = next(s for s in t.edited if s.text.startswith("export"))
    assert all(type(evs[i]) is KeyDown and evs[i].char == c for c, i in zip(seg.chars, seg.events, strict=True))


def test_typed_text_breaks_at_shortcuts_clicks_and_windows(tmp_path: Path) -> None:
    r = Recording(tmp_path / "b")
    r.window("a")
    r.type("abc")
    r.w.write(KeyDown(t=r.tick(), key="ctrl", keycode=37))
    r.press("v", "v")
    r.w.write(KeyUp(t=r.tick(), key="ctrl", keycode=37))
    r.type("def")
    r.click(5, 5)
    r.type("ghi")
    r.press("left", None)
    r.type("jk")
    r.window("b")
    r.type("lm")
    t = typed_text(Bundle.open(r.close()).events())
    assert [s.text for s in t.edited] == ["abc", "def", "ghi", "jk", "lm"]
    assert [s.text for s in t.raw] == ["abcdefghijk", "lm"]  # ctrl+v types nothing; only windows break


# ------------------------------------------------------------------------------- scrub


def test_scrub_preset_redacts_token_keys_everywhere_and_proves_it(sample: Path, tmp_path: Path) -> None:
    before = tree_digest(sample)
    assert any(TOKEN in s for s in typed(sample)) and TOKEN.encode() in all_bytes(sample)
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(presets=["secrets"]))
    assert tree_digest(sample) == before  # the source is never modified
    # the token, the e-mail address, and the raw view's token with the typo (also a token shape)
    assert rep.proof.ok and rep.proof.literals == 3
    # every distinct screen was read (these show no text), the pixel proof ran, nothing was warned about
    assert rep.ocr is not None and rep.ocr.distinct == 5 and rep.ocr.boxes == 0
    assert rep.pixel_proof is not None and rep.pixel_proof.ok and rep.pixel_proof.read == 0  # all from the cache
    assert rep.screens_may_show_text == 0 and not rep.warnings
    blob = all_bytes(out)
    for secret in (TOKEN, "bob@example.com", TOKEN[:12], TOKEN[-12:]):
        assert secret.encode() not in blob
        assert not any(secret in s for s in typed(out))
    assert validate(Bundle.open(out)).ok
    # Redacted keys keep their timing, come in press/release pairs, and nothing else moved.
    old, new = events(sample), events(out)
    assert [e.t for e in old] == [e.t for e in new]
    red = [(o, n) for o, n in zip(old, new, strict=True) if type(n) is Redacted]
    assert red and all(n.kind == ("key_down" if type(o) is KeyDown else "key_up") for o, n in red)
    assert sum(n.kind == "key_down" for _, n in red) == sum(n.kind == "key_up" for _, n in red)
    # "export GH=" survives, so the redaction is confined to the secret
    assert any(s.startswith("export GH=") for s in typed(out))
    # the password was not asked for: scrub presets do not guess at it
    assert any(PASSWORD in s for s in typed(out))
    # the mark is scrubbed, the header says what happened without saying the secret
    marks = [e for e in new if type(e).__name__ == "Mark"]
    assert marks[0].label == "token was [REDACTED]"
    header = Bundle.open(out).header
    entry = header.redactions[-1]
    assert entry["by"] == "wf redact" and entry["scrub"]["presets"] == ["secrets"]
    assert entry["scrub"]["literals"] == 3 and TOKEN not in json.dumps(header.redactions)


def test_without_ocr_the_screens_that_may_show_scrubbed_text_are_warned_about(sample: Path, tmp_path: Path) -> None:
    rep = redact_bundle(Bundle.open(sample), tmp_path / "out", build_spec(presets=["secrets"], ocr=False))
    # the screens after the token (terminal) and after the e-mail (notes) may show them
    assert rep.screens_may_show_text == 2 and "may be visible" in rep.warnings[0] and "--no-ocr" in rep.warnings[0]
    assert rep.ocr is None and rep.pixel_proof is None and rep.ok
    assert rep.to_json()["pixel_proof"] == {"ok": True, "checked": False,
                                            "why": "--no-ocr: the screens' pixels were not read"}
    assert "ocr" not in Bundle.open(tmp_path / "out").header.redactions[-1]


def test_user_regex_is_not_written_into_the_header(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(scrub=[PASSWORD.replace("&", "\\&")]))
    assert rep.proof.ok and rep.keys_redacted >= 2 * len(PASSWORD)
    assert not any(PASSWORD in s for s in typed(out))
    assert b"Tr0ub4dor" not in all_bytes(out)
    # every character plus the Shift of "&"; the Shift of the leading "T" went down before the match began
    assert Bundle.open(out).header.redactions[-1]["scrub"] == {"patterns": 1, "presets": [], "literals": 1,
                                                                "key_events": len(PASSWORD) + 1}


def test_private_modes_of_the_new_bundle(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    redact_bundle(Bundle.open(sample), out, build_spec(presets=["secrets"]))
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for p in out.rglob("*"):
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p


# ------------------------------------------------------------------------------- masks


def test_mask_window_fills_its_rectangle_and_redacts_its_keys(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(mask_windows=["keepass"]))
    assert rep.proof.ok and rep.windows_masked == 1
    assert not any(PASSWORD in s for s in typed(out)) and not any("horse" in s for s in typed(out))
    assert any("export GH=" in s for s in typed(out))  # other windows untouched
    old, new = events(sample), events(out)
    vault = next(i for i, e in enumerate(new) if type(e) is Window and "KeePassXC" in e.title)
    assert new[vault].excluded
    nxt = next(i for i in range(vault + 1, len(new)) if type(new[i]) is Window)
    assert not [e for e in new[vault:nxt] if type(e) in (KeyDown, KeyUp)]
    masked = [(o, n) for o, n in zip(old, new, strict=True) if type(n) is Screen and o.hash != n.hash]
    assert len(masked) == 2  # the pre and post screens of the vault
    for o, n in masked:
        rgb, w, _ = load_rgb(out / n.path)
        px = memoryview(rgb).cast("B")
        inside = [px[(y * w + x) * 3] for y in range(50, 130) for x in range(100, 220)]
        assert set(inside) == {0}
        assert px[(10 * w + 10) * 3] == 255  # outside the window: untouched
        assert not (out / o.path).exists()  # the unmasked original is not copied
    assert validate(Bundle.open(out)).ok


def test_mask_rect_with_time_range_only_touches_screens_in_range(sample: Path, tmp_path: Path) -> None:
    old = events(sample)
    screens = [e for e in old if type(e) is Screen]
    t1 = screens[1].captured
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(rects=[f"0,0,50,40@{t1}-{t1}"]))
    assert rep.screens_masked == 1 and rep.proof.ok
    new = [e for e in events(out) if type(e) is Screen]
    changed = [i for i, (a, b) in enumerate(zip(screens, new, strict=True)) if a.hash != b.hash]
    assert changed == [1]
    rgb, w, _ = load_rgb(out / new[1].path)
    assert rgb[(39 * w + 49) * 3] == 0 and rgb[(40 * w + 50) * 3] == 255
    assert Bundle.open(out).header.redactions[-1]["mask_rect"] == [
        {"x": 0, "y": 0, "w": 50, "h": 40, "t1": t1, "t2": t1}]


def test_parse_rect() -> None:
    r = parse_rect("10,20,30,40@1.5-")
    assert (r.x, r.y, r.w, r.h, r.t1) == (10, 20, 30, 40, 1.5) and r.t2 == float("inf")
    assert parse_rect(" 0,0,5,5 @ -3").t2 == 3
    for bad in ("1,2,3", "1,2,0,4", "a,b,c,d", "1,2,3,4@5-1", "1,2,3,4@x-y"):
        with pytest.raises(BadInput):
            parse_rect(bad)


# ------------------------------------------------------------------------------- drop steps + annotations


def test_drop_steps_removes_events_and_remaps_annotations(sample: Path, tmp_path: Path) -> None:
    from wf.bundle.actions import load_actions

    acts = load_actions(Bundle.open(sample))
    types = [a.kind for a in acts]
    assert "mark" in types
    mark = types.index("mark")
    last = mark - 1  # the e-mail typing before the mark: partly scrubbed, its number may change
    assert acts[last].kind == "type"
    ann = sample / "annotations.jsonl"
    ann.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [
        {"v": 1, "at": "2026-11-26T12:00:00.000Z", "author": "a", "set": {"task": "use " + TOKEN}},
        {"v": 1, "at": "2026-11-26T12:00:01.000Z", "author": "a", "step": 0, "set": {"note": "first"}},
        {"v": 1, "at": "2026-11-26T12:00:02.000Z", "author": "a", "step": mark, "set": {"note": "the mark"}},
        {"v": 1, "at": "2026-11-26T12:00:03.000Z", "author": "a", "step": last, "set": {"note": "last"}},
    ]) + b'{"v":1,"torn')
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(presets=["secrets"], drop_steps=[f"{mark}"]))
    assert rep.proof.ok and rep.steps_dropped == 1 and rep.events_removed >= 1
    assert not [e for e in events(out) if type(e).__name__ == "Mark"]
    assert validate(Bundle.open(out)).ok
    new_acts = load_actions(Bundle.open(out))
    recs = [orjson.loads(x) for x in (out / "annotations.jsonl").read_bytes().splitlines()]
    assert recs[0]["set"]["task"] == "use [REDACTED]"
    notes = {r["step"]: r["set"]["note"] for r in recs if "step" in r}
    assert "the mark" not in notes.values()  # about the dropped step: not copied
    assert notes[0] == "first"
    last_new = next(k for k, v in notes.items() if v == "last")
    assert new_acts[last_new].t_start == acts[last].t_start  # followed its action to its new number
    assert rep.annotations_removed == 2  # the dropped step's record and the torn line
    assert TOKEN.encode() not in all_bytes(out)


def test_drop_steps_out_of_range_is_bad_input(sample: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="steps"):
        redact_bundle(Bundle.open(sample), tmp_path / "out", build_spec(drop_steps=["0:999"]))
    with pytest.raises(BadInput, match="steps"):
        redact_bundle(Bundle.open(sample), tmp_path / "out2", build_spec(drop_steps=["999"]))


def test_parse_steps_follows_replay_convention() -> None:
    from wf.redact.spec import parse_steps

    assert parse_steps("3:5") == (3, 5) and parse_steps("4") == (4, 5)
    assert parse_steps(":2") == (0, 2) and parse_steps("7:") == (7, None)
    for bad in ("5:5", "5:2", ":", "a:b", "-1"):
        with pytest.raises(BadInput):
            parse_steps(bad)


def test_drop_steps_range_to_the_end(sample: Path, tmp_path: Path) -> None:
    from wf.bundle.actions import load_actions

    n = len(load_actions(Bundle.open(sample)))
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(sample), out, build_spec(drop_steps=[f"{n - 2}:"]))
    assert rep.steps_dropped == 2 and rep.proof.ok
    assert len(load_actions(Bundle.open(out))) == n - 2
    assert Bundle.open(out).header.redactions[-1]["drop_steps"] == [f"{n - 2}:"]
    assert validate(Bundle.open(out)).ok


# ------------------------------------------------------------------------------- proof


def test_proof_finds_a_literal_in_any_file_and_in_typed_text(sample: Path) -> None:
    proof = prove_gone(sample, {TOKEN: "github-token"})
    assert not proof.ok
    wheres = {f.where.split(" ")[0] for f in proof.survivors}
    assert {"line", "typed"} <= wheres  # the mark line (raw bytes and decoded) and the typed text
    (sample / "notes.txt").write_text("x " + PASSWORD)
    proof = prove_gone(sample, {PASSWORD: "scrub#1"})
    assert any(f.file == "notes.txt" for f in proof.survivors)


def test_bytes_inside_compressed_pixels_are_incidental_not_survivors(sample: Path) -> None:
    png = next((sample / "screens").iterdir())
    data = png.read_bytes()
    idat = data.index(b"IDAT") + 4
    printable = re.compile(rb"[0-9A-Za-z]{3,}")
    m = printable.search(data, idat, data.rindex(b"IEND") - 4)
    assert m, "no ASCII run in this PNG's pixel data"
    lit = m.group().decode()  # some ASCII run inside the compressed pixels
    proof = prove_gone(sample, {lit: "scrub#1"})
    assert proof.ok and any("IDAT" in f.where for f in proof.incidental)
    assert all(f.file.startswith("screens/") or f.file == "events.jsonl" for f in proof.incidental)


def test_a_scrubbing_bug_is_caught_by_the_proof_and_exits_1(sample: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import wf.redact.redactor as redact

    monkeypatch.setattr(redact, "scrub_text", lambda text, literals: text)  # a bug: titles/marks left alone
    code = run(["redact", str(sample), "--out", str(tmp_path / "out"), "--scrub-preset", "secrets"])
    err = capsys.readouterr().err
    assert code == 1
    assert "survivor" in err and "github-token" in err and "proof failed" in err
    assert TOKEN not in err  # the report never prints the secret


def test_cli_json_report_and_validate(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = run(["redact", str(sample), "-o", str(out), "--scrub-preset", "secrets", "--mask-window",
                "KEEPASS", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rep = json.loads(captured.out)
    assert rep["proof"]["ok"] and rep["windows_masked"] == 1 and rep["keys_redacted"] > 0
    assert TOKEN not in captured.out and PASSWORD not in captured.out
    assert run(["validate", str(out)]) == 0


@pytest.mark.parametrize("args, message", [
    ([], "nothing to redact"),
    (["--scrub", "(bad"], "bad regular expression"),
    (["--scrub", "x*"], "empty string"),
    (["--scrub-preset", "nope"], "'nope' is not one of 'secrets'"),
    (["--mask-rect", "1,2,3"], "X,Y,W,H"),
    (["--drop-steps", "5:2"], "is empty"),
    (["--mask-window", "["], "bad regular expression"),
    (["--scrub-preset", "secrets", "--jobs", "0"], "--jobs 0: must be at least 1"),
])
def test_cli_bad_input_exits_2(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               args: list[str], message: str) -> None:
    out = tmp_path / "out"
    assert run(["redact", str(sample), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # nothing written for bad input


def test_out_must_not_overlap_the_source(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["redact", str(sample), "--out", str(sample / "inner"), "--scrub-preset", "secrets"]) == 2
    assert run(["redact", str(sample), "--out", str(sample), "--scrub-preset", "secrets"]) == 2
    assert "overlaps" in capsys.readouterr().err


# ------------------------------------------------------------------------------- presets


@pytest.mark.parametrize("text, name", [
    ("key AKIAIOSFODNN7EXAMPLE here", "aws-access-key-id"),
    (TOKEN, "github-token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github-fine-grained-pat"),
    ("xoxb-123456789012-abcdefghijkl", "slack-token"),
    ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "sk-api-key"),
    ("sk-ant-api03-abcdefghijklmnopqrstuvwx", "sk-api-key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
    ("mail me: jane.doe+x@mail.example.org", "email"),
    ("card 4111 1111 1111 1111 exp", "card-number"),
    ("card 4111-1111-1111-1111", "card-number"),
])
def test_secrets_preset_finds(text: str, name: str) -> None:
    assert [p.name for p in SECRETS if p.matches(text)] == [name]


@pytest.mark.parametrize("text", [
    "the quick brown fox", "ask-me-anything-please-now-ok", "4111 1111 1111 1112", "version 1.2.3",
    "ghp_short", "2026-11-26 12:00:00", "call 0123 456 789",
])
def test_secrets_preset_leaves_ordinary_text(text: str) -> None:
    assert [p.name for p in SECRETS if p.matches(text)] == []


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5500 0000 0000 0004")
    assert not luhn_ok("4111111111111112") and not luhn_ok("1234")


def test_screen_size_constants_match_kit() -> None:
    assert (W, H) == (320, 200)


def test_keys_left_in_a_window_the_recorder_excluded_are_redacted(tmp_path: Path) -> None:
    """Defence in depth: a window flagged ``excluded`` is treated as masked even without --mask-window."""
    r = Recording(tmp_path / "src")
    r.window("public")
    r.type("hello " + TOKEN)
    r.w.write(Window(t=r.tick(), title="vault", wm_class="v.V", x=0, y=0, width=W, height=H, excluded=True))
    r.type(PASSWORD)  # an old or buggy recorder wrote real keys here
    src = r.close()
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(src), out, build_spec(presets=["secrets"]))
    assert rep.proof.ok
    assert not any(PASSWORD in s or TOKEN in s for s in typed(out))
    assert any("hello" in s for s in typed(out))


# ------------------------------------------------------------------------------- property


_ALPHABET = "abcXYZ019 -_=.@"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.text(_ALPHABET, max_size=12), after=st.text(_ALPHABET, max_size=12),
       typo_at=st.integers(0, len(TOKEN)), typo=st.sampled_from(["", "q\b", "QQ\b\b"]))
def test_a_typed_token_never_survives(tmp_path_factory: pytest.TempPathFactory, before: str, after: str,
                                      typo_at: int, typo: str) -> None:
    root = tmp_path_factory.mktemp("prop")
    r = Recording(root / "src")
    r.window("term")
    r.type(before + TOKEN[:typo_at] + typo + TOKEN[typo_at:] + after)
    r.screen()
    src = r.close()
    out = root / "out"
    rep = redact_bundle(Bundle.open(src), out, build_spec(presets=["secrets"], ocr=False))  # about typed text
    assert rep.proof.ok
    assert not any(TOKEN[4:] in s for s in typed(out))
    assert validate(Bundle.open(out)).ok


def test_a_window_moving_while_typing_does_not_split_the_typed_text() -> None:
    from wf.redact.typed import TypedTextBuilder

    b = TypedTextBuilder()
    evs: list[object] = [Window(t=0.0, title="term", id=7, x=0, y=0, width=100, height=100)]
    for i, ch in enumerate("hunter"):
        if i == 3:  # format 1.1: the same window moved mid-word
            evs.append(Window(t=0.5, title="term", id=7, x=40, y=0, width=100, height=100))
        evs += [KeyDown(t=1.0 + i, key=ch, char=ch, keycode=30 + i), KeyUp(t=1.05 + i, key=ch, char=ch, keycode=30 + i)]
    evs.append(Window(t=9.0, title="other", id=8))
    evs += [KeyDown(t=10.0, key="x", char="x", keycode=53), KeyUp(t=10.1, key="x", char="x", keycode=53)]
    for i, ev in enumerate(evs):
        b.feed(i, ev)  # type: ignore[arg-type]
    assert [s.text for s in b.result().edited if s.chars] == ["hunter", "x"]

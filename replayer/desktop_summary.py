"""The summary lines of a replay's desktop part (start state, window anchoring, volatile regions), for people."""

from __future__ import annotations

from wf.bundle.replays import Desktop

SHOWN = ("restored", "not restorable")


def desktop_rows(desk: Desktop) -> list[tuple[str, str]]:
    """(label, text) rows: counts per start-state outcome, then each item that was changed or could not be."""
    rows: list[tuple[str, str]] = []
    if not desk.start_recorded:
        rows.append(("start state", "not recorded (a bundle from before format 1.1): nothing restored"))
    else:
        counts: dict[str, int] = {}
        for item in desk.start:
            counts[item.status] = counts.get(item.status, 0) + 1
        rows.append(("start state", ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing to do"))
        rows += [(f"  {i.item}", f"{i.status}: {i.detail}" if i.detail else i.status)
                 for i in desk.start if i.status in SHOWN]
    if desk.anchor == "screen":
        rows.append(("windows", "recorded screen coordinates (--anchor screen)"))
    for w in desk.windows:
        name = f"{w.title!r}" + (f" ({w.wm_class})" if w.wm_class else "")
        if w.live is None:
            rows.append(("window", f"{name}: not found"))
            continue
        dx, dy = w.live[0] - w.recorded[0], w.live[1] - w.recorded[1]
        moved = f"moved by ({dx:+d}, {dy:+d})" if (dx, dy) != (0, 0) else "where it was recorded"
        rows.append(("window", f"{name}: {moved}, by {w.match}; {w.events} pointer events placed in it"))
    if desk.volatile_regions:
        boxes = ", ".join(f"{w}×{h} at ({x}, {y})" for x, y, w, h in desk.volatile_regions[:4])
        more = f" and {len(desk.volatile_regions) - 4} more" if len(desk.volatile_regions) > 4 else ""
        rows.append(("volatile", f"{len(desk.volatile_regions)} region(s) that change by themselves, never "
                                 f"compared: {boxes}{more}"))
    return rows

#!/usr/bin/python3
"""Click through wlroots' virtual-pointer protocol (zwlr_virtual_pointer_v1): a helper of wayland_probe.py.

    wayland_vpointer.py X Y WIDTH HEIGHT     move to (X, Y) of a WIDTH×HEIGHT output, click the left button

Why hand-written: Debian 12 ships no client for this protocol (wlrctl is not packaged, ydotool needs
/dev/uinput, which this machine lacks) and pywayland would need the protocol's XML, which no Debian package
installs. A product route would bind it through pywayland or a C library; this measures that the compositor
accepts and delivers it. The wire format: an 8-byte header (object id; size << 16 | opcode), then 4-byte
aligned arguments; opcodes follow the declaration order of wlr-virtual-pointer-unstable-v1.xml.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import time

DISPLAY, REGISTRY, CALLBACK = 1, 2, 3
MANAGER, POINTER = 4, 5
GET_REGISTRY, SYNC, BIND = 1, 0, 0
CREATE_POINTER, MOTION_ABSOLUTE, BUTTON, FRAME, DESTROY = 0, 1, 2, 4, 8
BTN_LEFT = 0x110
INTERFACE = "zwlr_virtual_pointer_manager_v1"


def message(obj: int, opcode: int, payload: bytes = b"") -> bytes:
    return struct.pack("<II", obj, (8 + len(payload)) << 16 | opcode) + payload


def string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def globals_of(sock: socket.socket) -> dict[str, tuple[int, int]]:
    """interface -> (name, version), read until our wl_display.sync comes back."""
    sock.sendall(message(DISPLAY, GET_REGISTRY, struct.pack("<I", REGISTRY)) +
                 message(DISPLAY, SYNC, struct.pack("<I", CALLBACK)))
    found: dict[str, tuple[int, int]] = {}
    buf = b""
    while True:
        buf += sock.recv(65536)
        while len(buf) >= 8:
            obj, word = struct.unpack_from("<II", buf)
            size, opcode = word >> 16, word & 0xFFFF
            if len(buf) < size:
                break
            body, buf = buf[8:size], buf[size:]
            if obj == REGISTRY and opcode == 0:  # wl_registry.global(name, interface, version)
                name, length = struct.unpack_from("<II", body)
                iface = body[8:8 + length - 1].decode()
                version = struct.unpack_from("<I", body, 8 + length + (-length % 4))[0]
                found[iface] = (name, version)
            elif obj == CALLBACK:
                return found
            elif obj == DISPLAY and opcode == 0:
                raise SystemExit(f"wayland error: {body!r}")


def main(argv: list[str]) -> int:
    x, y, width, height = (int(a) for a in argv[:4])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(os.environ["XDG_RUNTIME_DIR"], os.environ["WAYLAND_DISPLAY"]))
    found = globals_of(sock)
    if INTERFACE not in found:
        print(f"the compositor offers no {INTERFACE}", file=sys.stderr)
        return 3
    name, version = found[INTERFACE]
    sock.sendall(message(REGISTRY, BIND, struct.pack("<I", name) + string(INTERFACE) +
                         struct.pack("<II", min(version, 2), MANAGER)) +
                 message(MANAGER, CREATE_POINTER, struct.pack("<II", 0, POINTER)))  # seat: null = the default
    ms = int(time.monotonic() * 1000) & 0xFFFFFFFF
    sock.sendall(message(POINTER, MOTION_ABSOLUTE, struct.pack("<IIIII", ms, x, y, width, height)) +
                 message(POINTER, FRAME))
    time.sleep(0.1)  # let clients bind the seat's new pointer before the button arrives
    for i, state in enumerate((1, 0)):  # pressed, released
        sock.sendall(message(POINTER, BUTTON, struct.pack("<III", ms + 100 + 50 * i, BTN_LEFT, state)) +
                     message(POINTER, FRAME))
        time.sleep(0.05)
    sock.sendall(message(POINTER, DESTROY))
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

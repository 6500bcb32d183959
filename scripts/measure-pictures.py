#!/usr/bin/env python3
"""Pictures over a scripted pseudo-terminal: bytes folio writes and the time
to its first screen of text, answering its questions like kitty or like a
plain terminal.

    scripts/measure-pictures.py FOLIO POST --images MODE --answer kitty|plain
        [--cols 100] [--rows 40] [--text "After"]

Prints one line: mode, answer, milliseconds from start to the first output
containing TEXT, to the first picture (kitty, sixel or a half block) and to
the first kitty or sixel picture,
total bytes written until folio has been quiet for 2 s,
and how many of them are kitty APC / sixel DCS bytes.
"""

import argparse
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import tempfile
import termios
import time

QUERY = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[c"
ANSWERS = {
    "kitty": b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;22;52c",
    "sixel": b"\x1b[6;20;10t\x1b[?63;1;2;4;6;9;15;22c",
    "plain": b"\x1b[?62;22c",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folio")
    ap.add_argument("post")
    ap.add_argument("--images", default="auto")
    ap.add_argument("--answer", default="plain", choices=ANSWERS)
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--text", default="After")
    a = ap.parse_args()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    home = tempfile.mkdtemp()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": home,
        "XDG_CONFIG_HOME": home + "/c",
        "XDG_DATA_HOME": home + "/d",
        "XDG_CACHE_HOME": home + "/k",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    start = time.monotonic()
    child = subprocess.Popen(
        [a.folio, "--images", a.images, a.post],
        stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, env=env,
    )
    os.close(slave)
    out = bytearray()
    answered = False
    first_text = None
    first_picture = None
    first_protocol = None
    last = time.monotonic()
    while time.monotonic() - start < 30:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            out += chunk
            last = time.monotonic()
            if first_text is None and a.text.encode() in out:
                first_text = (last - start) * 1000
            if first_picture is None and any(
                m in out for m in (b"\x1b_Ga=T", b"\x1bP0;1;0q", "▀".encode())
            ):
                first_picture = (last - start) * 1000
            if first_protocol is None and any(m in out for m in (b"\x1b_Ga=T", b"\x1bP0;1;0q")):
                first_protocol = (last - start) * 1000
            if not answered and QUERY in out:
                os.write(master, ANSWERS[a.answer])
                answered = True
        elif first_text is not None and time.monotonic() - last > 2:
            break
    os.write(master, b"q")
    child.wait(timeout=10)
    kitty = sum(len(m) for m in re.findall(rb"\x1b_G.*?\x1b\\", bytes(out), re.S))
    sixel = sum(len(m) for m in re.findall(rb"\x1bP0;1;0q.*?\x1b\\", bytes(out), re.S))
    print(
        f"images={a.images} answer={a.answer} first_text_ms={first_text:.0f} "
        f"first_picture_ms={first_picture or 0:.0f} first_protocol_ms={first_protocol or 0:.0f} "
        f"bytes={len(out)} kitty_apc_bytes={kitty} sixel_bytes={sixel}"
    )


if __name__ == "__main__":
    main()

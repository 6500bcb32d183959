#!/usr/bin/env python3
"""When a post's first text reaches tmux, without polling: tmux's control mode
reports a pane's output (%output) as tmux reads it, so nothing else competes
for the CPU while folio starts (a capture-pane loop does, and a folio that is
decoding pictures on one of two cores slows the loop, not the text).

    scripts/measure-first-text.py 'target/release/folio:/tmp/photos' \
        'target/release/folio:/tmp/phototext' \
        'target/release/folio:/tmp/photos:--images off'

Each argument is BINARY:DIR[:FLAGS], DIR holding index.md with the line
"First text of the post." (examples/photos writes such posts). The runs take
turns, ROUNDS (21) of each; every run quits folio and waits for it to exit.

Also a key while pictures are being decoded: once the first picture is out
(its half blocks; the others still decoding), `?` is sent and timed until the
help overlay is out. A post without pictures gets its `?` right after its
first text.
"""
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time


def lines(pipe, until):
    """The lines of `pipe` until `until` (a monotonic time), never blocking past it."""
    buffered = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([pipe], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return
        chunk = os.read(pipe.fileno(), 65536)
        if not chunk:
            return
        buffered += chunk
        *complete, buffered = buffered.split(b"\n")
        yield from complete


def once(binary, folder, flags):
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, XDG_CONFIG_HOME=tmp + "/c", XDG_DATA_HOME=tmp + "/d",
               XDG_CACHE_HOME=tmp + "/k")
    sock = tmp + "/s"
    start = time.monotonic()
    tmux = subprocess.Popen(
        ["tmux", "-S", sock, "-f", "/dev/null", "-C", "new-session", "-x", "100", "-y", "30",
         f"env COLORTERM=truecolor {binary} {flags} {folder}/index.md; echo folio-exited; sleep 100"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    first = key = asked = None
    pictures = b"photo 0" in open(f"{folder}/index.md", "rb").read() and "off" not in flags

    def send(keys):
        # From before the tmux client starts: the key may be answered before
        # that client has exited (its start-up is in both kinds of runs).
        sent = time.monotonic()
        subprocess.run(["tmux", "-S", sock, "send-keys", keys])
        return sent

    for line in lines(tmux.stdout, start + 20):
        if first is None and b"First text" in line:
            first = (time.monotonic() - start) * 1000
            if not pictures:
                asked = send("?")
        # A half block: a picture is out.
        if first is not None and asked is None and "▀".encode() in line:
            asked = send("?")
        if asked is not None and key is None and b"Moving (list" in line:
            key = (time.monotonic() - asked) * 1000
            send("q")
        if b"folio-exited" in line:
            break
    subprocess.run(["tmux", "-S", sock, "kill-server"], stderr=subprocess.DEVNULL)
    tmux.kill()
    tmux.wait()
    return first, key


def main():
    runs = [arg.split(":", 2) for arg in sys.argv[1:]]
    times = [[] for _ in runs]
    for _ in range(int(os.environ.get("ROUNDS", "21"))):
        for i, run in enumerate(runs):
            times[i].append(once(run[0], run[1], run[2] if len(run) > 2 else ""))
    for run, results in zip(runs, times):
        line = ":".join(run) + ":"
        for what, ts in (("first text", [r[0] for r in results]), ("? to help", [r[1] for r in results])):
            ts = sorted(t for t in ts if t is not None)
            q = statistics.quantiles(ts, n=4)
            line += (f" {what} median {statistics.median(ts):.1f} ms"
                     f" (quartiles {q[0]:.1f}-{q[2]:.1f}, {len(ts)} runs);")
        print(line)


main()

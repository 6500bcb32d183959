#!/usr/bin/env bash
# What a person sees in a real terminal, measured in tmux (issue 17's
# targets): the bytes a one-line scroll of the reader writes at 100x30
# beside a list of 40 real-looking titles, and the time to the first frame
# of a 5 KB post beside `less` on the same file, in one run.
#
#   scripts/measure-tmux.sh            # builds the release binary first
#   FOLIO_BIN=path/to/folio scripts/measure-tmux.sh
#
# Bytes come from `pipe-pane -O` (everything the program writes to its
# terminal); times from starting the pane until its first line shows, polled
# with `capture-pane` every few milliseconds, tmux's own start included (the
# same for both programs).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${FOLIO_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet --bin folio --example corpus
    bin=target/release/folio
fi
bin=$(realpath "$bin")
corpus=$(realpath target/release/examples/corpus)

tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/config" "$tmp/data" "$tmp/cache" "$tmp/blog"
tm() { tmux -S "$sock" "$@"; }
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Waits until the pane shows $1 (up to 10 s).
wait_for() {
    local until=$(($(now_ms) + 10000))
    while [ "$(now_ms)" -lt "$until" ]; do
        tm capture-pane -p -t "$2" | grep -qF -- "$1" && return 0
        sleep 0.002
    done
    echo "timed out waiting for '$1' in $2" >&2
    tm capture-pane -p -t "$2" >&2
    return 1
}

# Waits until the file $1 has not grown for 150 ms; prints its size.
settled_size() {
    local last=-1 size stable=0
    while [ "$stable" -lt 15 ]; do
        size=$(stat -c %s "$1")
        if [ "$size" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
        last=$size
        sleep 0.01
    done
    echo "$last"
}

"$corpus" blog 30000 "$tmp/blog" >/dev/null
tm -f /dev/null new-session -d -s scroll -x 100 -y 30 \
    "TERM=tmux-256color COLORTERM= $bin $tmp/blog"
first_title=$(sed -n 's/^title: "\(.*\)"$/\1/p' "$tmp/blog/post-00.md" | cut -c1-20)
wait_for "$first_title" scroll
tm pipe-pane -O -t scroll "cat >> $tmp/scroll.bytes"
tm send-keys -t scroll Enter j j j j
sleep 0.3
steps=()
for key in j j k j j j k j k j; do
    before=$(settled_size "$tmp/scroll.bytes")
    tm send-keys -t scroll "$key"
    after=$(settled_size "$tmp/scroll.bytes")
    steps+=($((after - before)))
done
sorted=$(printf '%s\n' "${steps[@]}" | sort -n)
echo "one-line scroll, two panes, 100x30, tmux: median $(echo "$sorted" | sed -n 5p) B (min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1)) over ${#steps[@]} steps"
tm kill-session -t scroll

"$corpus" post 5000 > "$tmp/small.md"
first_line=$(grep -m1 -v '^\(---\|title\|date\|tags\|excerpt\|$\)' "$tmp/small.md" | cut -c1-12)
title=$(sed -n 's/^title: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$tmp/small.md" | head -1 | cut -c1-20)
for run in 1 2 3 4 5; do
    for tool in folio less; do
        if [ "$tool" = folio ]; then cmd="$bin $tmp/small.md"; want=$title; else cmd="less $tmp/small.md"; want=---; fi
        start=$(now_ms)
        tm -f /dev/null new-session -d -s "$tool$run" -x 100 -y 30 "TERM=tmux-256color $cmd"
        wait_for "$want" "$tool$run"
        echo "$tool $(($(now_ms) - start))" >> "$tmp/first"
        tm kill-session -t "$tool$run"
    done
done
for tool in folio less; do
    echo "first frame of a 5 KB post, $tool: $(grep "^$tool " "$tmp/first" | cut -d' ' -f2 | sort -n | tr '\n' ' ')ms (5 runs)"
done
: "$first_line"

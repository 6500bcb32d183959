#!/usr/bin/env bash
# Screenshots for the README, from a real run: folio in a tmux pane of a fixed
# size, captured with its colours (`capture-pane -e`) and turned into SVG by
# scripts/ansi2svg.py. Needs tmux and python3.
#
#   scripts/screenshot.sh            # writes docs/screenshot-*.svg
#   FOLIO_BIN=path/to/folio scripts/screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cols=100
rows=30
bin=${FOLIO_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=target/release/folio
fi
bin=$(realpath "$bin")

tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p docs "$tmp/config" "$tmp/data" "$tmp/cache"

tm() { tmux -S "$sock" "$@"; }

# Waits until the pane shows $1, so a capture never catches a half-drawn frame.
wait_for() {
    for _ in $(seq 100); do
        tm capture-pane -p | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    echo "screenshot: timed out waiting for: $1" >&2
    tm capture-pane -p >&2
    exit 1
}

shot() {
    sleep 0.3
    tm capture-pane -e -p | python3 scripts/ansi2svg.py "$cols" "$rows" "$2" >"docs/$1.svg"
    echo "docs/$1.svg"
}

# The built-in guide, COLORTERM so folio uses its 24-bit theme colours, and
# XDG_* pointed at an empty folder so no personal config leaks in.
tm -f /dev/null new-session -d -x "$cols" -y "$rows" \
    env XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" \
    COLORTERM=truecolor TERM=xterm-256color "$bin"
tm set-option -g default-terminal xterm-256color >/dev/null 2>&1 || true
wait_for "Welcome to folio"

# 1. The list and the showcase post, scrolled to its table.
tm send-keys j j
wait_for "Markdown showcase"
tm send-keys Enter
sleep 0.5
shot screenshot-reader "folio — the list and a post"

# 2. The outline of the same post.
tm send-keys o
sleep 0.5
shot screenshot-outline "folio — jumping along the headings (o)"
tm send-keys Escape

# 3. A highlighted code block: jump 15 headings down, to "Rust".
tm send-keys 1 5 ]
wait_for "Python"
shot screenshot-code "folio — code blocks, highlighted"
tm send-keys q

#!/usr/bin/env bash
# Issue 16: first text and peak RSS of a post with ten 2000x1500 JPEGs beside the same text
# without pictures, in tmux at 100x30. Make the posts with the photos example:
#   cargo build --release --example photos && target/release/examples/photos /tmp/photos 10
#   target/release/examples/photos /tmp/phototext 10 --none
#   scripts/measure-pictures.sh target/release/folio /tmp/photos /tmp/phototext
# Set EXTRA="--images off" to time the photo post without drawing pictures.
set -euo pipefail
bin=$1; photos=$2; text=$3
tmp=$(mktemp -d); sock="$tmp/s"
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/c" "$tmp/d" "$tmp/k"
export XDG_CONFIG_HOME="$tmp/c" XDG_DATA_HOME="$tmp/d" XDG_CACHE_HOME="$tmp/k"
tm() { tmux -S "$sock" "$@"; }
now_ms() { date +%s%3N; }
wait_for() { local until=$(($(now_ms) + 20000)); while [ "$(now_ms)" -lt "$until" ]; do tm capture-pane -p -t "$2" | grep -qF -- "$1" && return 0; sleep 0.002; done; echo "timeout $1" >&2; return 1; }
first_text() {
  local name=$1 dir=$2 start end
  start=$(now_ms)
  tm -f /dev/null new-session -d -s "$name" -x 100 -y 30 "env COLORTERM=truecolor $bin ${EXTRA:-} $dir/index.md; echo folio-exited; sleep 100"
  wait_for "First text of the post." "$name"
  end=$(now_ms)
  # Quit and wait for the exit: a folio still decoding pictures would slow
  # the next run down.
  tm send-keys -t "$name" q
  wait_for folio-exited "$name"
  tm kill-session -t "$name"
  echo $((end - start))
}
# The two kinds take turns, so that neither gets the quieter moments.
photo_ts=(); text_ts=()
for i in $(seq 9); do
  photo_ts+=("$(first_text "photos$i" "$photos")")
  text_ts+=("$(first_text "text$i" "$text")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 5p; }
printf 'photos first text ms: %s  median %s\n' "${photo_ts[*]}" "$(median "${photo_ts[@]}")"
printf 'text first text ms: %s  median %s\n' "${text_ts[*]}" "$(median "${text_ts[@]}")"
# Peak RSS: open, go through the whole post (every picture decoded), quit.
for kind in photos text; do
  dir=$photos; [ $kind = text ] && dir=$text
  tm -f /dev/null new-session -d -s "rss$kind" -x 100 -y 60 "env COLORTERM=truecolor /usr/bin/time -v -o $tmp/time-$kind $bin $dir/index.md; sleep 100"
  wait_for "First text of the post." "rss$kind"
  for k in 1 2 3 4 5 6 7; do sleep 1.5; tm send-keys -t "rss$kind" C-d; done
  sleep 3; tm send-keys -t "rss$kind" G; sleep 3
  tm capture-pane -p -t "rss$kind" | grep -c "▀" | sed "s/^/$kind rows with half blocks at the end: /" || true
  tm send-keys -t "rss$kind" q
  for w in $(seq 50); do [ -s "$tmp/time-$kind" ] && grep -q "Exit status" "$tmp/time-$kind" && break; sleep 0.2; done
  grep "Maximum resident" "$tmp/time-$kind" | sed "s/^/$kind /"
done

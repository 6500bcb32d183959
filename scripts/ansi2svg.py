#!/usr/bin/env python3
"""Turn a terminal capture with SGR colours (`tmux capture-pane -e -p`) into
an SVG: one rectangle per run of background colour, one <text> per run of
identical style, placed on a fixed character grid.

Usage: ansi2svg.py COLS ROWS < capture.txt > screen.svg

Standard library only. Understands what tmux emits: reset, bold, dim, italic,
underline, reverse, strikethrough, the 16 colours, 256-colour indexes and
24-bit colours (`;` or `:` separated). Other sequences are dropped.
"""

import html
import re
import sys
import unicodedata

CELL_W = 8.4  # px per column, for a 14px monospace font
CELL_H = 18  # px per row
FONT_SIZE = 14
PAD = 10
DEFAULT_FG = "#d8dee9"
DEFAULT_BG = "#2e3440"
TITLE_H = 28

# xterm's 16 colours, Nord-ish so the capture looks like a real dark terminal.
PALETTE16 = [
    "#3b4252", "#bf616a", "#a3be8c", "#ebcb8b", "#81a1c1", "#b48ead", "#88c0d0", "#e5e9f0",
    "#4c566a", "#bf616a", "#a3be8c", "#ebcb8b", "#81a1c1", "#b48ead", "#8fbcbb", "#eceff4",
]


def color256(n):
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "under", "strike", "reverse")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.dim = self.italic = self.under = self.strike = self.reverse = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic, self.under, self.strike, self.reverse)

    def apply(self, params):
        # Colon sub-parameters (38:2::r:g:b) become plain lists.
        codes = []
        for p in params.split(";") if params else ["0"]:
            if ":" in p:
                parts = [x for x in p.split(":")]
                if parts[0] in ("38", "48", "58") and len(parts) > 1 and parts[1] == "2":
                    rgb = [x for x in parts[2:] if x != ""][-3:]
                    codes.append([parts[0], "2"] + rgb)
                else:
                    codes.append([x or "0" for x in parts])
            else:
                codes.append(p or "0")
        i = 0
        while i < len(codes):
            c = codes[i]
            if isinstance(c, list):
                self._extended(c)
                i += 1
                continue
            n = int(c)
            if n in (38, 48, 58):
                if i + 1 < len(codes) and codes[i + 1] == "5" and i + 2 < len(codes):
                    self._extended([str(n), "5", codes[i + 2]])
                    i += 3
                    continue
                if i + 1 < len(codes) and codes[i + 1] == "2" and i + 4 < len(codes):
                    self._extended([str(n), "2"] + codes[i + 2 : i + 5])
                    i += 5
                    continue
            self._simple(n)
            i += 1

    def _extended(self, parts):
        which = parts[0]
        if len(parts) >= 3 and parts[1] == "5":
            color = color256(int(parts[2]))
        elif len(parts) >= 5 and parts[1] == "2":
            color = "#%02x%02x%02x" % tuple(int(x) for x in parts[2:5])
        else:
            return
        if which == "38":
            self.fg = color
        elif which == "48":
            self.bg = color

    def _simple(self, n):
        if n == 0:
            self.reset()
        elif n == 1:
            self.bold = True
        elif n == 2:
            self.dim = True
        elif n == 3:
            self.italic = True
        elif n == 4:
            self.under = True
        elif n == 7:
            self.reverse = True
        elif n == 9:
            self.strike = True
        elif n == 22:
            self.bold = self.dim = False
        elif n == 23:
            self.italic = False
        elif n == 24:
            self.under = False
        elif n == 27:
            self.reverse = False
        elif n == 29:
            self.strike = False
        elif 30 <= n <= 37:
            self.fg = PALETTE16[n - 30]
        elif n == 39:
            self.fg = None
        elif 40 <= n <= 47:
            self.bg = PALETTE16[n - 40]
        elif n == 49:
            self.bg = None
        elif 90 <= n <= 97:
            self.fg = PALETTE16[n - 90 + 8]
        elif 100 <= n <= 107:
            self.bg = PALETTE16[n - 100 + 8]


SEQ = re.compile(r"\x1b\[([0-9;:]*)([A-Za-z])|\x1b[()][A-Za-z0-9]|\x1b.")


def cell_width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(lines, cols):
    """Rows of cells: (char, style key, width)."""
    rows = []
    style = Style()
    for line in lines:
        row = []

        def add(text):
            for ch in text:
                w = cell_width(ch)
                if w == 0 and row:
                    c, k, cw = row[-1]
                    row[-1] = (c + ch, k, cw)
                elif w:
                    row.append((ch, style.key(), w))

        pos = 0
        for m in SEQ.finditer(line):
            add(line[pos : m.start()])
            pos = m.end()
            if m.group(2) == "m":
                style.apply(m.group(1))
        add(line[pos:])
        used = sum(c[2] for c in row)
        # Pad to the full width with the current background.
        row.extend((" ", style.key(), 1) for _ in range(max(0, cols - used)))
        rows.append(row)
    return rows


def colors(key):
    fg, bg, bold, dim, _it, _un, _st, reverse = key
    fg = fg or DEFAULT_FG
    bg = bg or DEFAULT_BG
    if reverse:
        fg, bg = bg, fg
    return fg, bg


def render(rows, cols, nrows, title):
    width = PAD * 2 + cols * CELL_W
    height = PAD * 2 + TITLE_H + nrows * CELL_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{html.escape(title)}" '
        'xml:space="preserve">',
        "<style>text{font-family:'DejaVu Sans Mono','Menlo','Consolas',monospace;"
        f"font-size:{FONT_SIZE}px;white-space:pre}}.b{{font-weight:bold}}.i{{font-style:italic}}"
        ".d{opacity:.6}</style>",
        f'<rect width="100%" height="100%" rx="8" fill="{DEFAULT_BG}"/>',
        f'<rect width="100%" height="{TITLE_H}" rx="8" fill="#3b4252"/>',
        f'<rect y="{TITLE_H - 8}" width="100%" height="8" fill="#3b4252"/>',
    ]
    for i, c in enumerate(["#bf616a", "#ebcb8b", "#a3be8c"]):
        out.append(f'<circle cx="{PAD + 8 + i * 20}" cy="{TITLE_H / 2}" r="6" fill="{c}"/>')
    out.append(
        f'<text x="{width / 2:.1f}" y="{TITLE_H / 2 + 5}" fill="#d8dee9" '
        f'text-anchor="middle">{html.escape(title)}</text>'
    )
    top = PAD + TITLE_H
    for y, row in enumerate(rows[:nrows]):
        ty = top + y * CELL_H
        # Background runs.
        x = 0
        i = 0
        while i < len(row):
            _, bg = colors(row[i][1])
            start = x
            while i < len(row) and colors(row[i][1])[1] == bg:
                x += row[i][2]
                i += 1
            if bg != DEFAULT_BG:
                out.append(
                    f'<rect x="{PAD + start * CELL_W:.1f}" y="{ty}" '
                    f'width="{(x - start) * CELL_W:.1f}" height="{CELL_H}" fill="{bg}"/>'
                )
        # Text runs of one style; wide characters get their own run so the
        # grid stays exact whatever the font.
        x = 0
        i = 0
        while i < len(row):
            key = row[i][1]
            start = x
            text = ""
            while i < len(row) and row[i][1] == key:
                text += row[i][0]
                x += row[i][2]
                i += 1
                if row[i - 1][2] != 1:
                    break
            if not text.strip():
                continue
            # Renderers trim or collapse spaces at the ends of a <text>; keep
            # only the visible part and place it exactly.
            lead = len(text) - len(text.lstrip(" "))
            trail = len(text) - len(text.rstrip(" "))
            text = text.strip(" ")
            start += lead
            x -= trail
            fg, _ = colors(key)
            classes = " ".join(
                c for c, on in (("b", key[2]), ("d", key[3]), ("i", key[4])) if on
            )
            deco = []
            if key[5]:
                deco.append("underline")
            if key[6]:
                deco.append("line-through")
            attrs = f' class="{classes}"' if classes else ""
            if deco:
                attrs += f' text-decoration="{" ".join(deco)}"'
            n = x - start
            x += trail
            out.append(
                f'<text x="{PAD + start * CELL_W:.1f}" y="{ty + CELL_H - 5}" fill="{fg}"{attrs} '
                f'textLength="{n * CELL_W:.1f}" lengthAdjust="spacingAndGlyphs">'
                f"{html.escape(text)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cols, nrows = int(sys.argv[1]), int(sys.argv[2])
    title = sys.argv[3] if len(sys.argv) > 3 else "folio"
    lines = sys.stdin.read().split("\n")
    rows = parse(lines[:nrows], cols)
    sys.stdout.write(render(rows, cols, nrows, title))


if __name__ == "__main__":
    main()
